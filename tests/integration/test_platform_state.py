"""What chat adapters remember (core/store/platform_state.py), on SQLite and PostgreSQL: one
platform's keys apart from another's, replaced, added once, forgotten, looked up by value."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.store.platform_state import PlatformMemory


def test_a_platforms_memory_keeps_replaces_adds_once_and_forgets(engine):
    matrix, telegram = PlatformMemory(engine, "matrix"), PlatformMemory(engine, "telegram")
    earlier = datetime(2026, 12, 1, 9, 0)
    matrix.put("order_room:12", "!a:example.org", at=earlier)
    assert matrix.get("order_room:12") == "!a:example.org"
    assert telegram.get("order_room:12") is None  # each platform its own keys
    assert matrix.get("order_room:12", newer_than=earlier + timedelta(minutes=1)) is None
    matrix.put("order_room:12", "!b:example.org")
    assert (
        matrix.get("order_room:12", newer_than=earlier + timedelta(minutes=1)) == "!b:example.org"
    )
    assert matrix.key_holding("order_room:", "!b:example.org") == "order_room:12"
    assert matrix.key_holding("order_room:", "!a:example.org") is None

    assert telegram.add("update:7") is True
    assert telegram.add("update:7", "again") is False
    assert telegram.get("update:7") == ""

    telegram.put("update:1", "", at=earlier)
    telegram.forget_older("update:", earlier + timedelta(minutes=1))
    assert telegram.get("update:1") is None and telegram.get("update:7") == ""
    assert matrix.get("order_room:12") is not None  # another platform's keys untouched

    assert matrix.forget("order_room:12") is True
    assert matrix.forget("order_room:12") is False
    assert matrix.get("order_room:12") is None
