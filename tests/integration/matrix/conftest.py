"""The Matrix tests: one Synapse for the whole session (the `synapse` fixture of
tests/integration/conftest.py), a fresh bot account and fresh people for every test, so that no
test sees another's rooms.

Tests may be `async def`: each runs in an `asyncio.run` of its own, with a deadline, because
matrix-nio clients belong to the event loop they were made in.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools

import pytest
from synapse_server import Person, SynapseServer

from bots.matrix.settings import MatrixSettings

TEST_DEADLINE_S = 60
_names = itertools.count(1)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(asyncio.wait_for(pyfuncitem.obj(**arguments), TEST_DEADLINE_S))
    return True


@pytest.fixture
def register(synapse: SynapseServer, request: pytest.FixtureRequest):
    """register("alice") → a new Person whose name is unique in the session."""
    test = "".join(c for c in request.node.name.lower() if c.isalnum())[:20]

    def new(name: str, admin: bool = False) -> Person:
        return synapse.register(f"{name}-{test}-{next(_names)}", admin=admin)

    return new


@pytest.fixture
def bot(register) -> Person:
    return register("scis")


@pytest.fixture
def bot_settings(synapse: SynapseServer, bot: Person) -> MatrixSettings:
    return MatrixSettings(homeserver=synapse.url, user=bot.user_id, password=bot.password)
