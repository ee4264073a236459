"""What `scis serve` does with a network it cannot load: one line for the operator, nothing
loaded, instead of a traceback (under a supervisor: a crash loop)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from bots.bootstrap import NetworkProblem, Settings, bootstrap
from core.store.database import make_engine
from core.store.tables import NetworkVersion

SHARED_ACCOUNT = """\
scis: 1
participants:
  - {id: ana, name: Ana, roles: [maker], contacts: {telegram: "4242"}}
  - {id: bea, name: Bea, roles: [buyer], contacts: {telegram: "4242"}}
items:
  - {id: chair, name: Chair}
"""


def test_a_network_that_gives_one_chat_account_to_two_people_is_refused_in_one_line(
    tmp_path: Path,
):
    network = tmp_path / "network.yaml"
    network.write_text(SHARED_ACCOUNT)
    url = f"sqlite:///{tmp_path / 'scis.db'}"
    app = bootstrap(Settings(database_url=url), senders={})
    try:
        with pytest.raises(NetworkProblem) as problem:
            app.load_networks([network], example=None)
    finally:
        app.stop()
    assert str(problem.value) == (
        "the network was not loaded: that telegram account already speaks for ana"
    )
    engine = make_engine(url)
    with Session(engine) as session:
        assert session.exec(select(NetworkVersion)).all() == []
    engine.dispose()
