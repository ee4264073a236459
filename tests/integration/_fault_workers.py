"""The SCIS actors as `scis worker` runs them, for tests/integration/test_trust_faults.py, with
a sender that records every message (as SCIS_RECORDING_SENDER does) and, when the test asks,
right after a send — the moment at which a fault could make a delivery repeat — either hangs
(for the test to SIGKILL the process) or cuts its own process's database connections.

Run as `python -m dramatiq _fault_workers --path tests/integration`. The test asks by creating
the file named by SCIS_TEST_HANG_REQUEST or SCIS_TEST_CUT_REQUEST; the first send after that
takes the file (a rename, so exactly one process takes each request, and the new name says
which) and hangs, or terminates from a connection of its own every backend this process holds
(pg_terminate_backend, by application_name).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import create_engine, make_url, pool, text

from bots.logs import setup_logging

# Each process names its connections, so that a cut reaches this process's and no other's.
APPLICATION = f"scis-fault-worker-{os.getpid()}"
DATABASE = make_url(os.environ["DATABASE_URL"])
os.environ["DATABASE_URL"] = DATABASE.update_query_dict(
    {"application_name": APPLICATION}
).render_as_string(hide_password=False)
setup_logging(level=None)

from workers import actors  # noqa: E402 — after DATABASE_URL names this process
from workers.senders import PREFERENCE, Outgoing, RecordingSender  # noqa: E402

RECORD = Path(os.environ["SCIS_RECORDING_SENDER"])
CUT_REQUEST = Path(os.environ["SCIS_TEST_CUT_REQUEST"])
HANG_REQUEST = Path(os.environ["SCIS_TEST_HANG_REQUEST"])
SEND_SECONDS = float(os.environ.get("SCIS_TEST_SEND_SECONDS", "0.01"))  # a platform's latency


class CuttingSender:
    def __init__(self, platform: str):
        self.platform = platform
        self.inner = RecordingSender(RECORD, platform)
        self.killer = None

    def send(self, address: str, message: Outgoing) -> None:
        time.sleep(SEND_SECONDS)
        self.inner.send(address, message)
        if taken(HANG_REQUEST, message):
            time.sleep(600)  # sent, not yet recorded as sent: the test SIGKILLs this process
        if taken(CUT_REQUEST, message):
            self.cut()

    def cut(self) -> None:
        if self.killer is None:
            self.killer = create_engine(DATABASE, poolclass=pool.NullPool)
        with self.killer.connect() as connection:
            cut = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": APPLICATION},
            ).scalar_one()
        print(f"fault: {cut} database connection(s) of {APPLICATION} terminated", flush=True)


def taken(request: Path, message: Outgoing) -> bool:
    """Whether this send takes the test's request (a rename: one process takes each)."""
    try:
        request.rename(request.with_name(f"{request.stem}-taken-{os.getpid()}-{message.id}"))
    except FileNotFoundError:
        return False
    return True


actors.configure(None, {platform: CuttingSender(platform) for platform in PREFERENCE})
