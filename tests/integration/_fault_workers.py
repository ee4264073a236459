"""The SCIS actors as `scis worker` runs them, for tests/integration/test_trust_faults.py, with
a sender that records every message (as SCIS_RECORDING_SENDER does) and, when the test asks,
right after a send — the moment at which a fault could make a delivery repeat — either hangs
(for the test to SIGKILL the process) or cuts its own process's database connections.

Run as `python -m dramatiq _fault_workers:worker_process --path tests/integration`: Dramatiq
calls worker_process in each worker process, as `scis worker` has it call
bots.bootstrap:worker_process. The test asks by creating the file named by
SCIS_TEST_HANG_REQUEST or SCIS_TEST_CUT_REQUEST; the first send after that takes the file (a
rename, so exactly one process takes each request, and the new name says which) and hangs, or
terminates from a connection of its own every backend this process holds
(pg_terminate_backend, by application_name).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import dramatiq
from sqlalchemy import create_engine, make_url, pool, text

from bots.bootstrap import Settings, bootstrap
from bots.logs import setup_logging
from bots.platforms import PLATFORM_NAMES
from workers.senders import Outgoing, RecordingSender

RECORD = Path(os.environ["SCIS_RECORDING_SENDER"])
CUT_REQUEST = Path(os.environ["SCIS_TEST_CUT_REQUEST"])
HANG_REQUEST = Path(os.environ["SCIS_TEST_HANG_REQUEST"])
SEND_SECONDS = float(os.environ.get("SCIS_TEST_SEND_SECONDS", "0.01"))  # a platform's latency


class CuttingSender:
    def __init__(self, platform: str, database: str, application: str):
        self.platform = platform
        self.inner = RecordingSender(RECORD, platform)
        self.database = database
        self.application = application
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
            self.killer = create_engine(self.database, poolclass=pool.NullPool)
        with self.killer.connect() as connection:
            cut = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self.application},
            ).scalar_one()
        print(f"fault: {cut} database connection(s) of {self.application} terminated", flush=True)


def taken(request: Path, message: Outgoing) -> bool:
    """Whether this send takes the test's request (a rename: one process takes each)."""
    try:
        request.rename(request.with_name(f"{request.stem}-taken-{os.getpid()}-{message.id}"))
    except FileNotFoundError:
        return False
    return True


def worker_process() -> None:
    """SCIS put together as bots.bootstrap:worker_process does, on connections named after this
    process (so that a cut reaches this process's and no other's) and with cutting senders."""
    setup_logging(level=None)
    settings = Settings.from_environment()
    application = f"scis-fault-worker-{os.getpid()}"
    named = make_url(settings.database_url).update_query_dict({"application_name": application})
    senders = {
        platform: CuttingSender(platform, settings.database_url, application)
        for platform in PLATFORM_NAMES
    }
    app = bootstrap(
        replace(settings, database_url=named.render_as_string(hide_password=False)),
        senders=senders,
        upgrade=False,
        work_here=False,
    )
    dramatiq.set_broker(app.broker)
