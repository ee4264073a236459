"""Scale-out as a community runs it on more than one machine: two `scis serve` processes and
three `scis worker` processes, separate processes on one PostgreSQL and one Redis. Both bot
processes serve the Telegram webhook on the same port (the kernel spreads the connections) and
share the Matrix bot's rooms by MATRIX_SHARD 0/2 and 1/2, on the real Synapse and the Telegram
emulator. Every update and message is answered once, by one process, and its effects (commands
kept, orders placed, outbox messages delivered) happen once — also when Telegram delivers an
update twice, and across a restart of one shard.

The processes start once for the module; the tests run in order on them.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from bot_api_proxy import BotApiProxy
from bot_processes import ServeProcess
from database_servers import free_port
from matrix_people import MatrixPerson, add_buyers, chair_network, eventually
from redis_servers import redis_or_skip
from sqlalchemy import text
from telegram_harness import text_update
from worker_processes import WorkerProcesses, wait_until

from bots.bootstrap import application
from bots.matrix.settings import Shard
from bots.telegram.webhook import SECRET_HEADER
from core.importers import load_network
from core.service.commands import LoadNetwork
from core.store.database import make_engine

SECRET = "scale-out_secret-token"
SHARDS = 2
TELEGRAM_PEOPLE = 40  # every other one orders a chair; the others read the catalog
MATRIX_PEOPLE = 4  # two rooms on each shard
UPDATE_IDS = 500_000
WORKING = "Working on it"
WORKERS = 3
pytestmark = pytest.mark.postgres


@dataclass
class Deployment:
    engine: object
    bots: list[ServeProcess]
    workers: WorkerProcesses
    proxy: BotApiProxy
    emulator: object
    token: str
    webhook_url: str
    bot_user: str
    matrix_people: dict[str, object]  # participant id → synapse_server.Person

    def count(self, sql: str) -> int:
        with self.engine.connect() as connection:
            return connection.execute(text(sql)).scalar_one()

    def rows(self, sql: str) -> list[tuple]:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]

    def records(self) -> list[dict]:
        return self.workers.records()

    def post(self, update: dict) -> int:
        """As Telegram posts an update: a connection of its own, with the secret token."""
        headers = {SECRET_HEADER: SECRET}
        return httpx.post(self.webhook_url, json=update, headers=headers, timeout=20).status_code

    def bot_replies(self) -> dict[int, list[str]]:
        """The emulator's record of what the bot wrote, by chat."""
        by_chat: dict[int, list[str]] = {}
        for entry in self.emulator.history(self.token):
            message = entry["message"]
            by_chat.setdefault(int(message["chat_id"]), []).append(message.get("text", ""))
        return by_chat

    def logs(self) -> str:
        bots = [f"{bot.name}:\n{bot.log_text()[-3000:]}" for bot in self.bots]
        return "\n".join([*bots, f"workers:\n{self.workers.log_tail(3000)}"])


def telegram_chat(number: int) -> int:
    return 7_100_000 + number


def network_files(directory: Path, matrix: dict[str, str]) -> list[Path]:
    """The chair network, with buyers of the test's own: `tg<n>` on Telegram, and the Matrix
    people (who reach nobody else: the example's Matrix ids are left out)."""
    paths = chair_network(directory, matrix={}, telegram={})
    buyers = [(f"tg{n}", {"telegram": str(telegram_chat(n))}) for n in range(TELEGRAM_PEOPLE)]
    buyers += [(who, {"matrix": user}) for who, user in matrix.items()]
    add_buyers(paths, buyers)
    return paths


@pytest.fixture(scope="module")
def deployment(postgres_server, postgres_template, synapse, telegram_emulator, tmp_path_factory):
    directory = tmp_path_factory.mktemp("scale-out")
    name = postgres_server.create_database(template=postgres_template)
    database_url = postgres_server.database_url(name)
    engine = make_engine(database_url)
    redis = redis_or_skip()
    run = uuid.uuid4().hex[:6]
    bot = synapse.register(f"scis-scale-{run}")
    people = {f"mx{n}": synapse.register(f"mx{n}-scale-{run}") for n in range(MATRIX_PEOPLE)}
    loaded = load_network(network_files(directory, {k: p.user_id for k, p in people.items()}))
    assert loaded.errors == []
    application(engine).handle(LoadNetwork(None, loaded.network, note="the scale-out test"))

    workers = WorkerProcesses(  # `scis worker --processes 3`
        redis_url=redis.url,
        database_url=database_url,
        recording_path=directory / "recorded.jsonl",
        log_path=directory / "workers.log",
        processes=WORKERS,
        threads=2,
        start_timeout=90,  # each imports the whole application: seconds on a busy machine
    )
    proxy = BotApiProxy(telegram_emulator.url).start()
    token = telegram_emulator.new_token("scale-out")
    port = free_port()
    webhook_url = f"http://127.0.0.1:{port}/telegram/hook"
    common = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "TELEGRAM_TOKEN": token,
        "TELEGRAM_API_URL": proxy.url,
        "TELEGRAM_WEBHOOK_URL": webhook_url,
        "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
        "TELEGRAM_WEBHOOK_PORT": str(port),
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "MATRIX_HOMESERVER": synapse.url,
        "MATRIX_USER": bot.user_id,
        "MATRIX_PASSWORD": bot.password,
    }
    bots = [
        ServeProcess(
            f"bot {shard}/{SHARDS}",
            common | {"MATRIX_SHARD": f"{shard}/{SHARDS}"},
            directory / f"serve-{shard}.log",
            cwd=directory,
        )
        for shard in range(SHARDS)
    ]
    deployment = Deployment(
        engine, bots, workers, proxy, telegram_emulator, token, webhook_url,
        bot.user_id, people,
    )  # fmt: skip
    try:
        for serving in bots:
            serving.start()
        workers.start()
        wait_until_serving(deployment, webhooks=SHARDS)
        yield deployment
    finally:
        codes = [serving.stop() for serving in bots]
        workers.stop()
        print(deployment.logs())
        proxy.stop()
        redis.stop()
        engine.dispose()
        postgres_server.drop_database(name)
    assert codes == [0] * SHARDS, f"a bot process did not stop cleanly: {codes}"
    assert not workers.leftovers(), "worker processes survived"


def wait_until_serving(deployment: Deployment, webhooks: int) -> None:
    """The bot processes have set the webhook `webhooks` times in all (so they listen on the
    port) and each has taken up its place in the Matrix stream."""

    def serving() -> bool:
        for serving in deployment.bots:
            assert serving.running(), deployment.logs()
        keys = {row[0] for row in deployment.rows("SELECT key FROM platform_state")}
        return deployment.proxy.called("setWebhook") >= webhooks and all(
            f"next_batch:{shard}/{SHARDS}" in keys for shard in range(SHARDS)
        )

    wait_until(serving, timeout=40, interval=0.1, message=deployment.logs)


def test_telegram_updates_on_one_port_are_shared_by_both_processes_and_answered_once(
    deployment,
):
    commands = {
        telegram_chat(n): "/order chair 1" if n % 2 == 0 else "/catalog chair"
        for n in range(TELEGRAM_PEOPLE)
    }
    updates = [
        text_update(UPDATE_IDS + n, chat, 1, command)
        for n, (chat, command) in enumerate(commands.items())
    ]
    posts = updates * 2  # Telegram delivers again what it thinks failed
    random.Random(8).shuffle(posts)
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(deployment.post, posts)) == [200] * len(posts)

    wait_until(
        lambda: len(deployment.bot_replies()) == len(commands),
        timeout=30,
        message=lambda: f"answered chats: {len(deployment.bot_replies())}\n{deployment.logs()}",
    )
    time.sleep(1.0)  # a second answer would come now
    replies = deployment.bot_replies()
    for chat, command in commands.items():
        [reply] = replies[chat]  # one reply, not two
        assert (WORKING in reply) if command.startswith("/order") else ("chair" in reply)

    # Both processes took updates; each update was taken by one of them.
    takers = Counter(
        value.rsplit(":", 1)[1]
        for (value,) in deployment.rows(
            "SELECT value FROM platform_state WHERE key LIKE 'webhook:%'"
        )
    )
    assert set(takers) == {str(serving.pid) for serving in deployment.bots}, takers
    assert sum(takers.values()) == len(updates)
    answered = deployment.count("SELECT count(*) FROM platform_state WHERE key LIKE 'update:%'")
    assert answered == len(updates)

    # The effects, once: each order kept once, placed once, woven once, its messages sent once.
    orderers = [chat for chat, command in commands.items() if command.startswith("/order")]
    assert_orders_placed_once(deployment, "telegram", [str(chat) for chat in orderers])


def assert_orders_placed_once(deployment: Deployment, platform: str, addresses: list[str]):
    def delivered() -> list[dict]:
        lines = [line for line in deployment.records() if line["address"] in addresses]
        plans = [line for line in lines if "ways to deliver it" in line["text"]]
        return lines if len(plans) >= len(addresses) else []

    deployment.workers.wait_until(delivered, timeout=40, message="orders not woven")
    time.sleep(1.0)  # a duplicate delivery would show now
    lines = [line for line in deployment.records() if line["address"] in addresses]
    assert len({line["notification"] for line in lines}) == len(lines), "a message sent twice"
    assert Counter(line["address"] for line in lines) == {a: 2 for a in addresses}, lines
    assert sorted(line["text"].split(" ")[0] for line in lines) == ["Order"] * len(lines)

    kept = deployment.count(
        f"SELECT count(*) FROM inbound_message WHERE platform = '{platform}' "
        "AND command = 'PlaceOrder' AND processed_at IS NOT NULL"
    )
    assert kept == len(addresses)
    per_buyer = deployment.rows(
        "SELECT c.address, count(*) FROM supply_order o JOIN chat_identity c "
        f"ON c.participant_id = o.buyer_id AND c.platform = '{platform}' GROUP BY c.address"
    )
    assert dict(per_buyer) == {address: 1 for address in addresses}
    unsent = deployment.count("SELECT count(*) FROM notification WHERE status != 'sent'")
    assert unsent == 0


async def open_rooms(deployment: Deployment, synapse) -> dict[str, MatrixPerson]:
    """Each Matrix person in a room with the bot; rooms chosen so that each shard has its
    share (a room's id decides its shard, and Synapse picks the id)."""
    people = {}
    for number, (who, account) in enumerate(deployment.matrix_people.items()):
        person = MatrixPerson(synapse, account, deployment.bot_user)
        shard = Shard(number % SHARDS, SHARDS)
        for _ in range(30):
            answer = await person.client.room_create(name=f"{who} and SCIS")
            if shard.owns(answer.room_id):
                break
        assert shard.owns(answer.room_id)
        await person.client.room_invite(answer.room_id, deployment.bot_user)
        person.dm = answer.room_id
        people[who] = person
    for person in people.values():

        async def joined(person=person):
            return await person.membership(person.dm, deployment.bot_user) == "join"

        await eventually(joined, timeout=20)
    return people


def shard_of(person: MatrixPerson) -> int:
    return next(s for s in range(SHARDS) if Shard(s, SHARDS).owns(person.dm))


async def test_matrix_rooms_are_shared_by_shard_answered_once_and_a_restart_replays_nothing(
    deployment, synapse
):
    people = await open_rooms(deployment, synapse)
    try:
        for person in people.values():
            await person.say(person.dm, "/order chair 1")
        for person in people.values():
            await person.told(WORKING)
        await asyncio.sleep(1.5)  # a second answer would come now
        for person in people.values():
            [answer] = await person.from_bot()
            assert WORKING in answer["body"]
        addresses = [person.user_id for person in people.values()]
        await asyncio.to_thread(assert_orders_placed_once, deployment, "matrix", addresses)

        # Shard 1 stops: its rooms go unanswered, shard 0's are answered as before.
        restarted = deployment.bots[1]
        assert restarted.stop() == 0
        webhooks = deployment.proxy.called("setWebhook")
        waiting = [p for p in people.values() if shard_of(p) == 1]
        answered = [p for p in people.values() if shard_of(p) == 0]
        for person in people.values():
            await person.say(person.dm, "/catalog chair")
        for person in answered:
            await person.told("ways to deliver it")
        for person in waiting:
            assert len(await person.from_bot()) == 1, "a stopped shard's room was answered"

        # Back again, it answers what was said while it was away, once, and nothing older.
        restarted.start()
        wait_until_serving(deployment, webhooks=webhooks + 1)
        for person in waiting:
            await person.told("ways to deliver it")
        await asyncio.sleep(1.5)
        for person in people.values():
            bodies = [m["body"] for m in await person.from_bot()]
            assert len(bodies) == 2 and WORKING in bodies[0], (person.user_id, bodies)
            assert "ways to deliver it" in bodies[1]
    finally:
        for person in people.values():
            await person.close()
