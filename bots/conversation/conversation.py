"""The conversation: one chat message in, the replies out — the same on every platform.

Reads (/catalog, /plans, /stages, /history, /tasks, /orders, /help) are answered here from the
queries, for the order's parties only. Changes go to `submit` (in production
`workers.actors.take_in`: the command is kept, then a worker carries it out); their outcome
reaches people through the outbox, so the immediate reply says what happens next. /join and
/register are how an account becomes a participant, so they are carried out here and answered
with their outcome.

`answer` never raises, and input that is not understood changes nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from sqlmodel import Session

from bots.conversation import flows, views
from bots.conversation.declarations import BY_NAME, NEWCOMER, Command, may_use
from bots.conversation.messages import Incoming, Reply
from bots.conversation.parsing import Parsed, Problem, is_command, parse, storable
from bots.conversation.rate_limit import RateLimiter
from core.service.bus import Services
from core.service.commands import FROM_CHAT, INVITE_DAYS, ApplyInbound, ReadOrder, Receive
from core.service.inbound import rebuild
from core.service.intents import intents_of, matches_of, preview
from core.service.lifecycle import ENDED, OrderStatus
from core.service.listings import catalog, duties, order_list, plan_page, stage_list
from core.service.orders import criterion_of, known_criteria
from core.service.participants import MAX_INVITE_DAYS, who_is
from core.service.queries import may_read, stage_picture, timeline, timeline_text
from core.service.results import Refused, Result
from core.service.risk import order_risk, risk_picture
from core.store.tables import InboundMessage, OrderRow, ParticipantRow
from workers.metrics import MESSAGES_IN

log = logging.getLogger(__name__)

MAX_INPUT = 4000
CAST_WORDS = {"yes", "y", "ok", "okay", "cast", "cast it", "send", "send it", "sí", "si"}

# (platform, message_id, command name, JSON arguments) → the kept command's id
Submit = Callable[[str, str, str, dict], int]


def invite_days_from_environment(environ: Mapping[str, str] = os.environ) -> int:
    """SCIS_INVITE_DAYS: how many days an invite code works (default 7, at most 365)."""
    text = environ.get("SCIS_INVITE_DAYS", "").strip()
    if not text:
        return INVITE_DAYS
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_INVITE_DAYS):
        raise ValueError(
            f"SCIS_INVITE_DAYS should be a whole number of days from 1 to {MAX_INVITE_DAYS}, "
            f"not {text!r}"
        )
    return int(text)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    roles: list[str]


class ChatConversation:
    """The `Conversation` every adapter talks to.

    `on_result` receives the result of the commands carried out here (/join, /register), so
    that their messages are delivered at once (in production `workers.actors.deliver_results`);
    without it the outbox sweeper sends them a little later.
    """

    def __init__(
        self,
        services: Services,
        submit: Submit,
        *,
        limiter: RateLimiter | None = None,
        on_result: Callable[[Result], None] | None = None,
        invite_days: int | None = None,
    ):
        self.services = services
        self.submit = submit
        self.limiter = limiter or RateLimiter()
        self.on_result = on_result
        # How long the codes of /invite work: given, or SCIS_INVITE_DAYS (read here, at start,
        # so that a bad value stops `scis serve` instead of refusing every /invite later).
        self.invite_days = invite_days or invite_days_from_environment()

    # -- the way in ----------------------------------------------------------------------------

    def answer(self, incoming: Incoming) -> list[Reply]:
        MESSAGES_IN.labels(incoming.platform).inc()  # every adapter hands its messages in here
        try:
            return self._answer(incoming)
        except Exception:
            # The text is not logged: it may hold what a person would not want in a log.
            log.exception("could not answer %s message %s", incoming.platform, incoming.message_id)
            return [views.reply("Sorry — something went wrong on my side. Please try again soon.")]

    def _answer(self, incoming: Incoming) -> list[Reply]:
        if not self.limiter.allow((incoming.platform, incoming.address)):
            wait = self.limiter.wait((incoming.platform, incoming.address))
            return [
                views.reply(
                    "You are sending messages faster than I can keep up — please wait "
                    f"{wait} second{'s' if wait != 1 else ''} and send that again."
                )
            ]
        text = incoming.text or ""
        if len(text) > MAX_INPUT:
            return [
                views.reply(
                    f"That message is too long ({len(text):,} characters; at most "
                    f"{MAX_INPUT:,}). Please send a shorter one."
                )
            ]
        text = storable(text).strip()
        if not text:
            return [views.reply("I got an empty message. /help lists what I can do.")]
        person = self._person(incoming)
        if not is_command(text):
            return self._plain(incoming, person, text)
        return self._command(incoming, person, text, parse(text))

    def _person(self, incoming: Incoming) -> Person | None:
        def read(session: Session) -> Person | None:
            participant_id = who_is(session, incoming.platform, incoming.address)
            row = session.get(ParticipantRow, participant_id) if participant_id else None
            return Person(row.id, row.name, list(row.roles)) if row else None

        return self.services.read(read)

    # -- plain text and flows ------------------------------------------------------------------

    def _plain(self, incoming: Incoming, person: Person | None, text: str) -> list[Reply]:
        if person is not None:
            step = flows.pending(
                self.services.engine, incoming.platform, incoming.address, self.services.clock()
            )
            if step is not None:
                return self._continue(incoming, person, step, text)
            return [
                views.reply(
                    "I understand commands: /help lists them, /tasks shows what waits for you, "
                    "and /say ORDER … talks to an order's parties."
                )
            ]
        return [views.reply(f"Hello! {views.JOIN_HINT} /help lists what I can do.")]

    def _ask(self, incoming: Incoming, person: Person, command: Command, problem: Problem):
        if command.party:
            refused = self._not_a_party(incoming, person, command, problem.values)
            if refused is not None:
                return [refused]
        words = storable(incoming.text).strip().split(maxsplit=1)
        given = words[1] if len(words) > 1 else ""
        step = flows.Pending(command.name, given)
        now = self.services.clock()
        if not flows.begin(self.services.engine, incoming.platform, incoming.address, step, now):
            return [views.reply(problem.text)]
        question = command.question.text.format(**problem.values)
        return [views.reply(f"{question} (Or /cancel.)")]

    def _continue(self, incoming, person: Person, step: flows.Pending, text: str) -> list[Reply]:
        if step.command == "cast" and text.strip().lower().rstrip("!.") in CAST_WORDS:
            return [self._read_cast(incoming, person, {})]
        command = BY_NAME.get(step.command)
        if command is None or command.question is None:
            flows.clear(self.services.engine, incoming.platform, incoming.address)
            return self._plain(incoming, person, text)
        parsed = parse(f"/{command.name} {step.given} {text}")
        if isinstance(parsed, Problem):
            return [
                views.reply(
                    f"{parsed.sentence}. For example: {command.question.example} — or /cancel."
                )
            ]
        flows.clear(self.services.engine, incoming.platform, incoming.address)
        return self._run(incoming, person, command, parsed.values)

    # -- commands ------------------------------------------------------------------------------

    def _command(
        self, incoming: Incoming, person: Person | None, text: str, parsed: Parsed | Problem
    ) -> list[Reply]:
        command = parsed.command
        if command is not None:
            blocked = self._blocked(person, command)
            if blocked is not None:
                return [blocked]
        if isinstance(parsed, Problem):
            question = command.question if command is not None else None
            if question is not None and parsed.given == question.after and person is not None:
                return self._ask(incoming, person, command, parsed)
            return [views.reply(parsed.text)]
        return self._run(incoming, person, command, parsed.values)

    def _blocked(self, person: Person | None, command: Command) -> Reply | None:
        if may_use(command, person.roles if person else None):
            return None
        if person is None:
            return views.reply(f"/{command.name} is for participants. {views.JOIN_HINT}")
        if command.who == NEWCOMER:
            return views.reply(
                f"This account already speaks for {person.name} ({person.id}). "
                "/help lists what you can do."
            )
        return views.reply(
            f"/{command.name} is for {views.who_may(command.who)}. /help lists what you can do."
        )

    def _run(self, incoming, person: Person | None, command: Command, values: dict):
        blocked = self._blocked(person, command)
        if blocked is not None:
            return [blocked]
        if command.name in ("join", "register"):
            return self._enrol(incoming, person, command, values)
        if command.name == "choose" and "rank" not in values:
            command = BY_NAME["plans"]  # choosing by button: show the plans to press
        if command.name == "cancel":
            if "order_id" not in values:
                return [self._read_cancel(incoming, person, values)]  # forget the question
            refused = self._may_cancel(incoming, person, command, values)
            if refused is not None:
                return [refused]
        if command.party:
            refused = self._not_a_party(incoming, person, command, values)
            if refused is not None:
                return [refused]
        if command.service is None:
            return [getattr(self, f"_read_{command.name}")(incoming, person, values)]
        if values.get("criteria") and (unknown := self._unknown_criterion(values["criteria"])):
            return [views.reply(f"{unknown[0].upper()}{unknown[1:]}. Usage: {command.usage}")]
        return self._change(incoming, person, command, values)

    def _unknown_criterion(self, criteria: list[str]) -> str | None:
        """Said before the order is accepted (PlaceOrder checks again: it trusts no adapter)."""

        def check(session: Session) -> str | None:
            known = known_criteria(self.services.current_network(session))
            try:
                for criterion in criteria:
                    criterion_of(criterion, known)
            except Refused as refusal:
                return str(refusal)
            return None

        return self.services.read(check)

    def _change(self, incoming, person: Person, command: Command, values: dict) -> list[Reply]:
        arguments = self._arguments(person, command, values)
        self.submit(incoming.platform, incoming.message_id, command.service, arguments)
        return [views.reply(command.then.format(**values))]

    def _arguments(self, person: Person, command: Command, values: dict) -> dict:
        """The service command's arguments, as JSON (what Receive keeps)."""
        names = {f.name for f in fields(FROM_CHAT[command.service])}
        given = {"actor": person.id, **command.fixed, **values}
        if command.service == "CreateInvite":
            given["days"] = self.invite_days
        return {key: value for key, value in given.items() if key in names}

    def _not_a_party(self, incoming, person: Person, command: Command, values: dict):
        """A refusal when the order is unknown or the person is none of its parties (recorded,
        like every refusal); None when they may go on."""
        order_id = values["order_id"]

        def check(session: Session) -> str | None:
            if session.get(OrderRow, order_id) is None:
                return "unknown"
            try:
                may_read(self.services, session, person.id, order_id)
            except Refused as refusal:
                return str(refusal)
            return None

        outcome = self.services.read(check)
        if outcome is None:
            return None
        if outcome == "unknown":
            return views.reply(f"I don't know order {order_id}. /tasks lists what waits for you.")
        if command.service is None:
            self.services.record_refusal(
                ReadOrder(person.id, order_id, command.name), Refused(outcome)
            )
            return views.reply(f"Sorry — {outcome}. /tasks lists the orders you are part of.")
        reason = f"you are not a party of order {order_id}"
        self.services.record_refusal(
            self._refused_command(incoming, person, command, values), Refused(reason)
        )
        return views.reply(
            f"Only the parties of order {order_id} can use /{command.name}, and you are not "
            "one of them. /tasks lists the orders you are part of."
        )

    def _may_cancel(self, incoming, person: Person | None, command: Command, values: dict):
        """`/cancel ORDER` is for the order's buyer or a coordinator, and for an order that has
        not ended: what is refused is told here, before anything is acknowledged (and recorded,
        like every refusal); None: go on."""
        if person is None:
            return views.reply(f"/cancel ORDER is for participants. {views.JOIN_HINT}")
        order_id = values["order_id"]

        def check(session: Session) -> str | None:
            order = session.get(OrderRow, order_id)
            if order is None:
                return "unknown"
            if order.buyer_id != person.id and "coordinator" not in person.roles:
                return f"only the buyer of order {order_id} or a coordinator cancels it"
            if order.status == OrderStatus.CANCELLED:
                return f"order {order_id} is cancelled already"
            if order.status in ENDED:
                return f"order {order_id} is {order.status}; it can no longer be cancelled"
            return None

        outcome = self.services.read(check)
        if outcome is None:
            return None
        if outcome == "unknown":
            return views.reply(f"I don't know order {order_id}. /orders lists yours.")
        self.services.record_refusal(
            self._refused_command(incoming, person, command, values), Refused(outcome)
        )
        return views.reply(f"Sorry — {outcome}. /orders lists the orders you are part of.")

    def _refused_command(self, incoming, person: Person, command: Command, values: dict):
        """The command as the service would have had it, for the record of its refusal."""
        try:
            return rebuild(
                InboundMessage(
                    platform=incoming.platform,
                    message_id=incoming.message_id,
                    command=command.service,
                    arguments=self._arguments(person, command, values),
                )
            )
        except (TypeError, Refused):  # stopped short (`/say 12`): what it was about is enough
            return ReadOrder(person.id, values["order_id"], command.name)

    def _enrol(self, incoming, person: None, command: Command, values: dict):
        display = (incoming.display_name or "").strip() or None
        name = values.get("name") or display
        if command.name == "register" and not name:
            return [
                views.reply("What name should the others see? Usage: /register buyer YOUR NAME")
            ]
        arguments = {
            "platform": incoming.platform,
            "address": incoming.address,  # the person's own account (see Incoming)
            "name": name,
            "handle": incoming.handle,
        }
        arguments.update(
            {"code": values["code"]} if command.name == "join" else {"role": values["role"]}
        )
        kept, _ = self.services.handle(
            Receive(incoming.platform, incoming.message_id, command.service, arguments)
        ).value
        result = self.services.handle(ApplyInbound(kept))
        if self.on_result is not None:
            self.on_result(result)

        def outcome(session: Session):
            row = session.get(InboundMessage, kept)
            speaks_for = who_is(session, incoming.platform, incoming.address)
            participant = session.get(ParticipantRow, speaks_for) if speaks_for else None
            return (row.outcome or ""), participant

        said, participant = self.services.read(outcome)
        if participant is not None:
            roles = ", ".join(participant.roles)
            follow = (
                "/catalog shows what can be ordered; /order ITEM QTY orders it."
                if "buyer" in participant.roles
                else "/tasks shows what waits for you; /help lists what you can do."
            )
            return [views.reply(f"Done — you are {participant.name} ({roles}) here now. {follow}")]
        reason = said.removeprefix("refused: ") or "that did not work"
        return [views.reply(f"{reason[0].upper()}{reason[1:]}. Usage: {command.usage}")]

    # -- reads ---------------------------------------------------------------------------------

    def _read_start(self, incoming, person: Person | None, values: dict) -> Reply:
        return views.start(person.name if person else None)

    def _read_help(self, incoming, person: Person | None, values: dict) -> Reply:
        roles = person.roles if person else None
        topic = values.get("topic")
        return views.help_topic(topic, roles) if topic else views.help_list(roles)

    def _read_cancel(self, incoming, person: Person | None, values: dict) -> Reply:
        if flows.clear(self.services.engine, incoming.platform, incoming.address):
            return views.reply("All right, forgotten. /help lists what you can do.")
        return views.reply("There was nothing to cancel. /help lists what you can do.")

    def _read_catalog(self, incoming, person: Person | None, values: dict) -> Reply:
        words = values.get("words", "")
        entries = self.services.read(lambda session: catalog(self.services, session, words))
        return views.catalog(entries, words)

    def _read_plans(self, incoming, person: Person, values: dict) -> Reply:
        order_id, page = values["order_id"], values.get("page", 1)
        try:
            shown = self.services.read(lambda session: plan_page(session, order_id, page))
        except Refused as refusal:
            return views.reply(f"{refusal}. Usage: /plans ORDER [PAGE]")
        return views.plans(shown, person.id)

    def _read_stages(self, incoming, person: Person, values: dict) -> Reply:
        order_id = values["order_id"]
        try:
            listing = self.services.read(
                lambda session: stage_list(self.services, session, order_id)
            )
        except Refused as refusal:
            return views.reply(f"{str(refusal)[0].upper()}{str(refusal)[1:]}.")
        try:
            picture = self.services.read(
                lambda session: stage_picture(session, self.services, order_id)
            )
        except Exception:  # the list still helps without its picture
            log.exception("no stage picture for order %s", order_id)
            picture = None
        return views.stages(listing, picture)

    def _read_risk(self, incoming, person: Person, values: dict) -> Reply:
        order_id = values["order_id"]
        try:
            found = self.services.read(lambda session: order_risk(self.services, session, order_id))
        except Refused as refusal:
            return views.reply(f"{str(refusal)[0].upper()}{str(refusal)[1:]}.")
        try:
            picture = risk_picture(found)
        except Exception:  # the figures still help without their picture
            log.exception("no risk picture for order %s", order_id)
            picture = None
        return views.risk(found, picture)

    def _read_offer(self, incoming, person: Person, values: dict) -> Reply:
        return self._preview(incoming, person, "offer", values["words"])

    def _read_request(self, incoming, person: Person, values: dict) -> Reply:
        return self._preview(incoming, person, "request", values["words"])

    def _read_propose(self, incoming, person: Person, values: dict) -> Reply:
        return self._preview(incoming, person, "proposal", values["words"])

    def _preview(self, incoming, person: Person, kind: str, words: str) -> Reply:
        """Read the intent back in structured form; /cast (or its button) sends it out."""
        try:
            shown = self.services.read(
                lambda session: preview(self.services, session, kind, person.id, words)
            )
        except Refused as refusal:
            return views.reply(f"{str(refusal)[0].upper()}{str(refusal)[1:]}")
        step = flows.Pending("cast", f"{kind} {words}")
        now = self.services.clock()
        if not flows.begin(self.services.engine, incoming.platform, incoming.address, step, now):
            return views.reply("I can't keep that for you here; please try a shorter message.")
        return views.intent_preview(shown)

    def _read_cast(self, incoming, person: Person, values: dict) -> Reply:
        step = flows.pending(
            self.services.engine, incoming.platform, incoming.address, self.services.clock()
        )
        if step is None or step.command != "cast":
            return views.reply("There is nothing to cast. /offer, /request or /propose first.")
        flows.clear(self.services.engine, incoming.platform, incoming.address)
        kind, words = step.given.split(" ", 1)
        arguments = {"actor": person.id, "kind": kind, "words": words}
        self.submit(incoming.platform, incoming.message_id, "CastIntent", arguments)
        return views.reply(f"Sending your {kind} out — I'll tell you its number and any match.")

    def _read_intents(self, incoming, person: Person, values: dict) -> Reply:
        mine = self.services.read(lambda session: intents_of(self.services, session, person.id))
        return views.intents(mine)

    def _read_matches(self, incoming, person: Person, values: dict) -> Reply:
        found = self.services.read(lambda session: matches_of(session, person.id))
        return views.matches(found)

    def _read_history(self, incoming, person: Person, values: dict) -> Reply:
        order_id = values["order_id"]
        lines = self.services.read(lambda session: timeline_text(timeline(session, order_id)))
        return views.history(order_id, lines)

    def _read_tasks(self, incoming, person: Person, values: dict) -> Reply:
        owed = self.services.read(lambda session: duties(self.services, session, person.id))
        return views.tasks(owed)

    def _read_orders(self, incoming, person: Person, values: dict) -> Reply:
        state = values.get("state")
        try:
            listing = self.services.read(
                lambda session: order_list(self.services, session, person.id, state)
            )
        except Refused as refusal:
            said = str(refusal)
            return views.reply(f"{said[0].upper()}{said[1:]}. Usage: /orders [STATE]")
        return views.orders(listing)
