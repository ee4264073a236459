"""The Telegram tests: the real PTB Application against telegram-test-api (started once per
session, see telegram_emulator.py), on a SQLite database of each test's own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from telegram_emulator import TelegramEmulator, emulator_or_skip

from core.store.database import make_engine


@pytest.fixture(scope="session")
def telegram_emulator() -> Iterator[TelegramEmulator]:
    emulator = emulator_or_skip()
    yield emulator
    emulator.stop()


@pytest.fixture
def sqlite_engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "scis.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()
