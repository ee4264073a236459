"""What the people running SCIS see of it: `scis health`'s checks against real servers (Redis,
the Telegram emulator, both databases), the Prometheus page of a running SCIS (in-process workers,
and `scis worker` processes in multiprocess mode), and the log lines (JSON with the order and the
participant; no secret in any)."""

from __future__ import annotations

import io
import json
import logging
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from database_servers import free_port
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session
from telegram_errors import TelegramRefuses, serving
from worker_processes import wait_until

from bots.bootstrap import Settings, application, bootstrap
from bots.conversation.messages import Incoming
from bots.conversation.rate_limit import RateLimiter
from bots.health import check_all
from bots.logs import prepare
from core.service.commands import ApplyInbound, Receive, Say
from core.store.tables import Notification, now
from workers.broker import make_broker
from workers.metrics import serve_metrics
from workers.senders import RecordingSender, recorded

PROJECT = Path(__file__).resolve().parents[2]
CHAIR = PROJECT / "examples" / "chair.yaml"
DANA = ("telegram", "584210337")  # chair.yaml's buyer, on Telegram

# -- health ----------------------------------------------------------------------------------


def by_name(checks) -> dict:
    return {check.name: check for check in checks}


def test_a_migrated_database_is_healthy(database_url):
    database = by_name(check_all(database_url, environ={}))["database"]
    assert database.healthy, database
    assert database.detail.endswith(", the newest")


def test_a_database_without_the_schema_is_not(empty_database_url):
    empty = by_name(check_all(empty_database_url, environ={}))["database"]
    assert not empty.healthy
    assert "no schema yet" in empty.detail and "scis db upgrade" in empty.detail


def test_the_redis_that_answers_is_healthy(redis_server, sqlite_template):
    checks = by_name(check_all(f"sqlite:///{sqlite_template}", {"REDIS_URL": redis_server.url}))
    assert checks["broker"].healthy, checks["broker"]
    assert checks["broker"].detail == f"Redis at 127.0.0.1:{redis_server.port} answers"


def test_a_redis_that_does_not_answer_fails_in_one_line_without_its_password(sqlite_template):
    port = free_port()
    environ = {"REDIS_URL": f"redis://:hunter2-redis@127.0.0.1:{port}/0"}
    started = time.monotonic()
    broker = by_name(check_all(f"sqlite:///{sqlite_template}", environ, timeout=2))["broker"]
    assert time.monotonic() - started < 5
    assert not broker.healthy
    assert broker.detail.startswith(f"Redis at 127.0.0.1:{port}: ")
    assert "refused" in broker.detail.lower()
    assert "\n" not in broker.detail and "hunter2" not in broker.detail


def test_telegram_answers_getme_with_the_token(telegram_emulator, sqlite_template):
    environ = {
        "TELEGRAM_TOKEN": telegram_emulator.new_token("health"),
        "TELEGRAM_API_URL": telegram_emulator.url,
    }
    telegram = by_name(check_all(f"sqlite:///{sqlite_template}", environ))["telegram"]
    assert telegram.healthy, telegram
    assert telegram.detail == "@TestNameBot answers"  # the emulator's bot


class RevokedToken(TelegramRefuses):
    """Telegram's answer to a token it does not know (the emulator takes any token)."""

    def do_GET(self):  # noqa: N802 — http.server's name
        self.refuse(401, "Unauthorized")


def test_a_token_telegram_refuses_fails_without_the_token(sqlite_template):
    token = "5550001:AAFakeFakeFakeFakeFakeFakeFakeFake12"
    with serving(RevokedToken) as url:
        environ = {"TELEGRAM_TOKEN": token, "TELEGRAM_API_URL": url}
        telegram = by_name(check_all(f"sqlite:///{sqlite_template}", environ))["telegram"]
    assert not telegram.healthy
    assert telegram.detail == "Telegram refused the token (HTTP 401 Unauthorized)"
    assert token not in telegram.detail


# -- metrics ---------------------------------------------------------------------------------


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    """The page as {(sample name, labels): value}."""
    samples = {}
    for family in text_string_to_metric_families(httpx.get(url, timeout=5).text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(page: dict, name: str, **labels) -> float:
    return page.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def running(tmp_path):
    """`scis serve`'s SCIS on the chair network (in-process workers; Telegram recorded to a
    file) and its metrics page on a free port: (app, page URL, record file)."""
    record = tmp_path / "sent.jsonl"
    runtime = bootstrap(
        Settings(database_url=f"sqlite:///{tmp_path / 'scis.db'}", threads=2),
        senders={"telegram": RecordingSender(record, "telegram")},
    )
    try:
        runtime.load_networks([CHAIR])
    except BaseException:
        runtime.stop()
        raise
    port = free_port()
    server = serve_metrics(port, runtime.broker, runtime.services.engine, address="127.0.0.1")
    try:
        yield runtime, f"http://127.0.0.1:{port}/metrics", record
    finally:
        server.shutdown()
        runtime.stop()


def test_a_chat_message_and_its_answer_are_counted_and_the_actors_timed(running):
    runtime, url, record = running
    before = scrape(url)
    conversation = runtime.conversation(limiter=RateLimiter(per_minute=600, burst=100))
    conversation.answer(Incoming(*DANA, f"{DANA[1]}:1", "/order chair 1"))
    wait_until(lambda: recorded(record), 30, message="no message reached dana")

    def counted():
        page = scrape(url)
        return page if value(page, "scis_actor_seconds_count", actor="deliver") else None

    after = wait_until(counted, 10, message="the deliver actor was not timed")

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("scis_messages_in_total", platform="telegram") == 1
    sent = len(recorded(record))
    assert grew("scis_messages_out_total", platform="telegram", outcome="sent") == sent >= 1
    for actor in ("apply_inbound", "weave_order", "deliver"):
        assert grew("scis_actor_seconds_count", actor=actor) >= 1, actor
        assert grew("scis_actor_failures_total", actor=actor) == 0, actor
    assert grew("scis_weave_seconds_count") == 1
    assert grew("scis_weave_seconds_sum") > 0
    assert ("scis_queue_depth", frozenset({("queue", "default")})) in after


def test_a_failing_actor_is_counted(running):
    runtime, url, _record = running
    before = value(scrape(url), "scis_actor_failures_total", actor="apply_inbound")
    runtime.actors.apply_inbound.send(10**9)  # no such kept command: the handler refuses it

    def failed():
        return value(scrape(url), "scis_actor_failures_total", actor="apply_inbound") > before

    wait_until(failed, 15, message="the failure was not counted")


def test_the_outbox_gauges_tell_a_pending_messages_age(engine):
    with Session(engine) as session:
        session.add(
            Notification(
                participant_id="dana",
                kind="message",
                text="waiting",
                created_at=now() - timedelta(seconds=90),
            )
        )
        session.commit()
    port = free_port()
    server = serve_metrics(port, make_broker(None), engine, address="127.0.0.1")
    try:
        page = scrape(f"http://127.0.0.1:{port}/metrics")
    finally:
        server.shutdown()
    assert value(page, "scis_outbox_pending") == 1
    assert 90 <= value(page, "scis_outbox_oldest_seconds") < 150


def test_scis_worker_serves_its_processes_metrics_and_logs_json(
    redis_server, worker_processes, sqlite_engine, tmp_path
):
    """Multiprocess mode: the sweep `scis worker` sends at start runs in one of its processes,
    and its time is on the page the parent serves; the processes log one JSON object a line."""
    port = free_port()
    group = worker_processes(
        redis_server.url,
        database_url=str(sqlite_engine.url),
        processes=2,
        env={"SCIS_METRICS_PORT": str(port), "SCIS_LOG_FORMAT": "json"},
    )
    url = f"http://127.0.0.1:{port}/metrics"

    def swept():
        try:
            page = scrape(url)
        except httpx.TransportError:
            return None
        return page if value(page, "scis_actor_seconds_count", actor="sweep") else None

    page = wait_until(swept, 30, message=lambda: group.log_tail())
    assert value(page, "scis_outbox_pending") == 0
    assert ("scis_queue_depth", frozenset({("queue", "default")})) in page
    ready = [line for line in group.log_text().splitlines() if "ready for action" in line]
    assert len(ready) >= 2
    assert all(json.loads(line)["logger"].startswith("dramatiq") for line in ready)


# -- logs ------------------------------------------------------------------------------------

SECRETS = {
    "TELEGRAM_TOKEN": "100042:scis-test-token",  # an emulator-style token: no Telegram shape
    "MATRIX_PASSWORD": "correct horse battery",
    "MATRIX_ACCESS_TOKEN": "syt_c2Npcw_bdTuvwXyZaBcDeFgHiJ_0abcde",
    "TELEGRAM_WEBHOOK_SECRET": "webhook-s3cret-value",
    "DATABASE_URL": "postgresql://scis:pg-pa55word@db.example.org/scis",
}


def lines_of(format: str, environ=SECRETS):
    """A logger whose lines land in a string, through SCIS's handler preparation."""
    stream = io.StringIO()
    handler = prepare(logging.StreamHandler(stream), {**environ, "SCIS_LOG_FORMAT": format})
    logger = logging.getLogger(f"scis.test.{format}.{time.monotonic_ns()}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, stream


def test_a_line_logged_inside_a_command_handler_carries_its_order_and_participant(
    sqlite_engine,
):
    """The way a chat command goes: kept (Receive), then carried out (ApplyInbound) — the
    handler's lines say whose command and which order, in JSON; lines outside do not."""
    logger, stream = lines_of("json", {})

    def say_and_log(command, context):
        logger.info("said on an order")

    services = application(sqlite_engine)
    services.handlers[Say] = say_and_log  # this application's own table: no other sees it
    arguments = {"actor": "ana", "order_id": 12, "text": "hello"}
    inbound_id, _ = services.handle(Receive("telegram", "m-1", "Say", arguments)).value
    services.handle(ApplyInbound(inbound_id))
    logger.info("after the command")
    inside, outside = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert inside["message"] == "said on an order"
    assert (inside["order_id"], inside["participant"]) == (12, "ana")
    assert {"time", "level", "logger"} <= set(inside) and inside["level"] == "INFO"
    assert "order_id" not in outside and "participant" not in outside


@pytest.mark.parametrize("format", ["json", "text"])
@pytest.mark.parametrize(
    ("said", "secret"),
    [
        ("GET https://api.telegram.org/bot{t}/getMe", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
        ("token {TELEGRAM_TOKEN} refused", SECRETS["TELEGRAM_TOKEN"]),
        ("login with {MATRIX_PASSWORD!r} failed", SECRETS["MATRIX_PASSWORD"]),
        ('{{"user": "@scis:x", "password": "typed-in-pw"}}', "typed-in-pw"),
        ("whoami with {MATRIX_ACCESS_TOKEN}", "syt_c2Npcw_bdTuvwXyZaBcDeFgHiJ_0abcde"),
        ("Authorization: Bearer mat_abcdef1234567890", "mat_abcdef1234567890"),
        ("X-Telegram-Bot-Api-Secret-Token was {TELEGRAM_WEBHOOK_SECRET}", "webhook-s3cret"),
        ("cannot connect to {DATABASE_URL}", "pg-pa55word"),
    ],
    ids=[
        "bot-url",
        "telegram-token",
        "matrix-password",
        "json-password",
        "matrix-token",
        "bearer",
        "webhook-secret",
        "database-password",
    ],
)
def test_no_secret_is_logged_in_a_message_or_an_exception(format, said, secret):
    text = said.format(t=f"123456789:{secret}", **SECRETS)
    assert secret in text
    logger, stream = lines_of(format)
    logger.warning("%s", text)
    try:
        raise RuntimeError(text)
    except RuntimeError:
        logger.exception("it went wrong")
    written = stream.getvalue()
    assert secret not in written
    assert written.count("[redacted]") >= 2  # the message and the traceback
    assert "RuntimeError" in written  # the traceback is still there
