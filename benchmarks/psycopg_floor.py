"""The floor under the assertion path (benchmarks/pipeline.py): plain psycopg doing an
assertion's database work on SCIS's schema, one statement per row and nothing else. Keep the
inbound row; claim it, lock the order, read the contract and its stages, update the stage,
insert the assertion, the event and the notifications, mark the inbound row done; per
notification, lock the recipient and mark it sent: the transactions SCIS commits, without its
code. What SCIS's CPU per assertion is measured against: its goal is at most twice this."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import psutil
import psycopg
from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class Floor:
    assertions: int
    client_s: float  # CPU seconds of the thread that ran the statements
    server_s: float  # CPU seconds of its PostgreSQL backend

    @property
    def per_assertion_ms(self) -> float:
        return (self.client_s + self.server_s) / self.assertions * 1000


def floor(url: str, work: list[tuple[int, str, str]], messages_per_assertion: float) -> Floor:
    """Assert every (order, stage, owner) of `work` done, sending `messages_per_assertion` on
    average (as SCIS sent in the same run), on the PostgreSQL database `url` (on this machine:
    its backend's CPU is read with psutil). Its orders are completed afterwards, untimed, so
    that nothing counts them as live."""
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        backend = psutil.Process(connection.info.backend_pid)
        client0, server0 = time.thread_time(), _cpu(backend)
        owed = 0.0
        for n, (order, stage, owner) in enumerate(work):
            owed += messages_per_assertion
            messages = int(owed)
            owed -= messages
            _assert(connection, f"floor-{n}", order, stage, owner, messages)
        client, server = time.thread_time() - client0, _cpu(backend) - server0
        with connection.transaction():
            orders = sorted({order for order, _, _ in work})
            connection.execute(_COMPLETED_CONTRACTS, (orders,))
            connection.execute(_COMPLETED_ORDERS, (orders,))
    return Floor(len(work), client, server)


def _assert(connection, message_id: str, order: int, stage: str, owner: str, messages: int):
    arguments = {"actor": owner, "order_id": order, "stage": stage, "status": "done"}
    with connection.transaction():
        inbound = connection.execute(_KEEP, (message_id, json.dumps(arguments))).fetchone()[0]
    with connection.transaction():
        connection.execute(_CLAIM, (inbound,)).fetchone()
        connection.execute(_LOCK_ORDER, (order,)).fetchone()
        contract = connection.execute(_CONTRACT, (order,)).fetchone()[0]
        stages = connection.execute(_STAGES, (contract,))
        code = [column.name for column in stages.description].index("code")
        stage_id = next(row[0] for row in stages.fetchall() if row[code] == stage)
        connection.execute(_STAGE_DONE, (stage_id,))
        connection.execute(_ASSERTION, (stage_id, owner, message_id))
        data = json.dumps({"contract": contract, "stage": stage, "status": "done"})
        connection.execute(_EVENT, (owner, order, message_id, data))
        text = f"Order {order}: {stage} done"
        sent = [
            connection.execute(_NOTIFICATION, (owner, order, text)).fetchone()[0]
            for _ in range(messages)
        ]
        connection.execute(_INBOUND_DONE, (inbound,))
    for notification in sent:
        with connection.transaction():
            connection.execute(_LOCK_RECIPIENT, (owner,)).fetchone()
            connection.execute(_SENT, (notification,))


def _cpu(process: psutil.Process) -> float:
    used = process.cpu_times()
    return used.user + used.system


_KEEP = (
    "INSERT INTO inbound_message (platform, message_id, command, arguments, received_at, "
    "attempts) VALUES ('telegram', %s, 'AssertStage', %s, now(), 0) "
    "ON CONFLICT DO NOTHING RETURNING id"
)
_CLAIM = "SELECT * FROM inbound_message WHERE id = %s FOR UPDATE"
_LOCK_ORDER = "SELECT * FROM supply_order WHERE id = %s FOR UPDATE"
_CONTRACT = (
    "SELECT id FROM contract WHERE order_id = %s AND status = 'agreed' ORDER BY id DESC LIMIT 1"
)
_STAGES = "SELECT * FROM stage WHERE contract_id = %s ORDER BY id"
_STAGE_DONE = "UPDATE stage SET status = 'done', updated_at = now() WHERE id = %s"
_ASSERTION = (
    "INSERT INTO assertion (stage_id, participant_id, status, at, platform, message_id, "
    "evidence, out_of_order) VALUES (%s, %s, 'done', now(), 'telegram', %s, '', false)"
)
_EVENT = (
    "INSERT INTO event (at, kind, actor_id, order_id, platform, message_id, data) "
    "VALUES (now(), 'stage_asserted', %s, %s, 'telegram', %s, %s)"
)
_NOTIFICATION = (
    "INSERT INTO notification (participant_id, order_id, kind, text, payload, created_at, "
    "status, attempts) VALUES (%s, %s, 'noted', %s, '{}', now(), 'pending', 0) RETURNING id"
)
_INBOUND_DONE = "UPDATE inbound_message SET processed_at = now(), outcome = 'done' WHERE id = %s"
_LOCK_RECIPIENT = "SELECT id FROM participant WHERE id = %s FOR UPDATE"
_SENT = (
    "UPDATE notification SET status = 'sent', sent_at = now(), platform = 'telegram' WHERE id = %s"
)
_COMPLETED_CONTRACTS = (
    "UPDATE contract SET status = 'completed' WHERE order_id = ANY(%s) AND status = 'agreed'"
)
_COMPLETED_ORDERS = "UPDATE supply_order SET status = 'completed' WHERE id = ANY(%s)"
