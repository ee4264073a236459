"""Issue 14, finding 1: in a Telegram group each member is themselves. The real PTB Application
long polls telegram-test-api, whose updates come from two people writing in one group chat, and
answers through the real conversation layer: SCIS answers in the group and acts as the sender,
for typed commands and for buttons alike."""

from __future__ import annotations

import pytest
from emulator_request import EmulatorRequest
from sqlmodel import Session, select
from telegram_emulator import EmulatedUser, TelegramEmulator, shown_text
from telegram_harness import BotThread

from bots.bootstrap import application
from bots.conversation.conversation import ChatConversation
from bots.conversation.rate_limit import RateLimiter
from bots.telegram import build_application
from bots.telegram.updates import NOBODY
from core.store.tables import ChatIdentity

GROUP = -100_777_001  # Telegram's group chat ids are negative
ALICE, BOB = 7_770_001, 7_770_002


class GroupMember(EmulatedUser):
    """A person writing in a group chat: the message is from them, the chat is the group's (and
    `unread` reads what the bot sent the group)."""

    def __init__(self, emulator, token, user_id: int, first_name: str, username: str | None):
        super().__init__(emulator, token, GROUP, first_name)
        self.user_id, self.username = user_id, username

    def _common(self) -> dict:
        person = {"id": self.user_id, "first_name": self.first_name, "is_bot": False}
        if self.username:
            person["username"] = self.username
        return super()._common() | {
            "from": person,
            "chat": {"id": GROUP, "type": "supergroup", "title": "Hampden makers"},
        }


@pytest.fixture
def group(telegram_emulator: TelegramEmulator, engine):
    """Alice and Bob in one group with the bot; yields (alice, bob, submitted, engine)."""
    token = telegram_emulator.new_token("group")
    services = application(engine)
    submitted: list[tuple[type, dict]] = []
    conversation = ChatConversation(
        services,
        lambda _platform, _id, command, arguments: submitted.append((command, arguments)) or 0,
        limiter=RateLimiter(per_minute=60_000, burst=1000),
    )
    bot = build_application(
        conversation,
        engine,
        token,
        base_url=telegram_emulator.bot_api_url,
        request=lambda: EmulatorRequest(),
    )
    alice = GroupMember(telegram_emulator, token, ALICE, "Alice", "alice_bakes")
    bob = GroupMember(telegram_emulator, token, BOB, "Bob", None)
    with BotThread(bot):
        yield alice, bob, submitted, engine


def test_finding_1_each_member_of_a_telegram_group_is_themselves(group):
    alice, bob, submitted, engine = group
    alice.says("/register buyer Alice Baker")
    registered = alice.gets("Done — you are Alice Baker (buyer)")  # in the group

    # Bob writes in the same group: he is a newcomer, not Alice.
    bob.says("/order chair 2")
    refused = bob.gets("/order is for participants")
    assert "/register buyer YOUR NAME" in shown_text(refused)
    assert submitted == []  # nothing was ordered in anyone's name
    bob.says("/start")
    assert "Hello! I coordinate" in shown_text(bob.gets("Hello"))

    bob.says("/register buyer Bob Stone")
    bob.gets("Done — you are Bob Stone (buyer)")
    bob.presses(registered, "/start")
    bob.gets("Hello, Bob Stone!")
    alice.presses(registered, "/start")
    alice.gets("Hello, Alice Baker!")

    with Session(engine) as session:
        accounts = {
            (i.address, i.participant_id, i.handle)
            for i in session.exec(select(ChatIdentity).where(ChatIdentity.platform == "telegram"))
            if i.participant_id in ("alice-baker", "bob-stone")
        }
        group_account = session.exec(
            select(ChatIdentity).where(ChatIdentity.address == str(GROUP))
        ).first()
    assert accounts == {
        (str(ALICE), "alice-baker", "@alice_bakes"),
        (str(BOB), "bob-stone", None),
    }
    assert group_account is None  # the group itself speaks for nobody
    # Every answer went to the group, none to the members' private chats.
    for person in (ALICE, BOB):
        assert telegram_private_chat(alice, person) == []


def test_finding_1_a_button_pressed_in_a_group_acts_as_who_pressed_it(group):
    alice, bob, submitted, _engine = group
    alice.says("/register buyer Alice Baker")
    registered = alice.gets("Done — you are Alice Baker (buyer)")
    bob.presses(registered, "/orders")  # under Alice's message, in the group
    assert "/orders is for participants" in shown_text(bob.gets("/orders is for"))
    bob.presses(registered, "/start")
    assert "Hello! I coordinate" in shown_text(bob.gets("Hello"))
    alice.presses(registered, "/start")
    alice.gets("Hello, Alice Baker!")
    assert submitted == []


def test_finding_1_an_anonymous_group_admin_is_nobody(group, telegram_emulator):
    alice, _bob, submitted, engine = group
    # An admin writing as the group: Telegram names the group as the sender.
    anonymous = GroupMember(
        telegram_emulator, alice.token, 1_087_968_824, "Group", "GroupAnonymousBot"
    )
    common = anonymous._common
    anonymous._common = lambda: (
        common() | {"sender_chat": {"id": GROUP, "type": "supergroup", "title": "Hampden makers"}}
    )
    anonymous.says("/register buyer Anon")
    assert shown_text(anonymous.gets("act for a person")) == NOBODY
    with Session(engine) as session:
        assert (
            session.exec(select(ChatIdentity).where(ChatIdentity.handle.is_not(None))).all() == []
        )


def telegram_private_chat(member: GroupMember, user_id: int) -> list[dict]:
    return member.emulator._post("/getUpdates", {"token": member.token, "chatId": user_id})
