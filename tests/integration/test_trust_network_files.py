"""Finding 8 of issue 14: hostile network files. Anyone may hand SCIS a network file (a folder of
manifests, a pull request to the networks repository), so a file made to hang or crash the
reader is answered with one line naming file and line, by `scis weave`, `scis catalog` and
`scis serve` alike; and a weave that fails anyway leaves its order in a named state, with the
buyer and a coordinator told.

The commands run in their own process with a timeout: before the fix an alias bomb did not end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bots.bootstrap import application
from core.importers import load_network
from core.network.model import Design, Facility, Item, Network, Offer, Participant
from core.service.commands import CancelOrder, LoadNetwork, PlaceOrder, WeaveOrder
from core.store.tables import EventRow, Notification, OrderRow

PROJECT = Path(__file__).resolve().parents[2]
SECONDS = 60  # every refusal below takes about one; the bomb took for ever

HEAD = """\
scis: 1
participants:
  - {id: shop, name: Shop, roles: [supplier, maker]}
items:
  - {id: leaf, name: Leaf}
"""


def alias_bomb() -> str:
    """The "billion laughs": nine aliases of nine aliases ... 9^9 values from 10 lines."""
    text = HEAD + "  - id: lol\n    properties:\n      a0: &a0 [" + ", ".join(["lol"] * 9) + "]\n"
    for level in range(1, 10):
        text += f"      a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]\n"
    return text


def chain(depth: int, per_batch: int = 1) -> str:
    """A network where item i0 is made from i1, i1 from i2 ... and i{depth} is bought."""
    lines = [
        "scis: 1",
        "participants:",
        "  - {id: shop, name: Shop, roles: [supplier, maker]}",
        "facilities:",
        "  - {id: bench, operator: shop}",
        "items:",
        *(f"  - {{id: i{k}}}" for k in range(depth + 1)),
        "designs:",
        *(
            f"  - {{id: d{k}, makes: i{k}, inputs: {{i{k + 1}: {per_batch}}}, labor: 1}}"
            for k in range(depth)
        ),
        "offers:",
        f"  - {{id: o, supplier: shop, item: i{depth}, price: 1}}",
    ]
    return "\n".join(lines) + "\n"


def scis(tmp_path: Path, *arguments: str, environ: dict | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_"))}
    env.pop("REDIS_URL", None)
    env.update(PYTHONPATH=str(PROJECT), DATABASE_URL=f"sqlite:///{tmp_path / 'scis.db'}")
    env.update(environ or {})
    return subprocess.run(
        [sys.executable, "-c", "from bots.cli import main; main()", *arguments],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SECONDS,
    )


def refused_in_one_line(tmp_path: Path, name: str, text: str, line: int | None, words: str):
    """`scis catalog`, `scis weave` and `scis serve` each refuse the file with one line naming
    it (and the line), and no traceback."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    where = f"{path}:{line}: error:" if line else f"{path}: error:"
    for arguments in (
        ("catalog", "-n", str(path)),
        ("weave", "leaf", "1", "-n", str(path)),
        ("serve", "-n", str(path)),
    ):
        done = scis(tmp_path, *arguments)
        assert done.returncode == 1, (arguments, done.stderr[-2000:])
        assert "Traceback" not in done.stderr, done.stderr[-2000:]
        named = [row for row in done.stderr.splitlines() if str(path) in row]
        assert len(named) == 1, done.stderr[-2000:]
        assert named[0].strip().startswith(where), named[0]
        assert words in named[0], named[0]


def test_finding_8_an_alias_bomb_is_refused_at_its_line_in_a_moment(tmp_path):
    refused_in_one_line(tmp_path, "bomb.yaml", alias_bomb(), 13, "alias bomb")


def test_finding_8_a_nul_character_is_refused_at_its_line(tmp_path):
    text = HEAD + '  - {id: bolt, name: "Bo\x00lt"}\n'
    refused_in_one_line(tmp_path, "nul.yaml", text, 6, "U+0000")
    escaped = HEAD + '  - {id: bolt, name: "Bo\\0lt"}\n'  # YAML's own escape for a NUL
    refused_in_one_line(tmp_path, "escaped-nul.yaml", escaped, 6, "NUL")


def test_finding_8_a_huge_integer_is_refused_at_its_line(tmp_path):
    offer = "offers:\n  - {id: o, supplier: shop, item: leaf, price: %s}\n"
    refused_in_one_line(tmp_path, "huge.yaml", HEAD + offer % ("9" * 5000), 7, "5,000 digits")
    # Under Python's 4,300 digits, yet no float can hold it: an absurd price, said so.
    refused_in_one_line(tmp_path, "absurd.yaml", HEAD + offer % ("9" * 400), 7, "at most")


def test_finding_8_deep_nesting_is_refused_at_its_line(tmp_path):
    text = HEAD + "  - {id: deep, properties: {x: " + "[" * 20_000 + "]" * 20_000 + "}}\n"
    refused_in_one_line(tmp_path, "deep.yaml", text, 6, "nested more than")


def test_finding_8_a_file_over_the_size_cap_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(HEAD + "".join(f"  - {{id: item-{k}}}\n" for k in range(2000)))
    size = path.stat().st_size
    loaded = load_network([path], max_bytes=size - 1)
    assert [str(d) for d in loaded.diagnostics] == [
        f"{path}: error: {size:,} bytes, more than the {size - 1:,} a network file may have "
        "(split it, or raise SCIS_MAX_NETWORK_BYTES); it was not read"
    ]
    assert load_network([path], max_bytes=size).errors == []
    # The setting reaches the commands through the environment.
    done = scis(tmp_path, "catalog", "-n", str(path), environ={"SCIS_MAX_NETWORK_BYTES": "1000"})
    assert done.returncode == 1 and "more than the 1,000 a network file" in done.stderr
    done = scis(tmp_path, "catalog", "-n", str(path), environ={"SCIS_MAX_NETWORK_BYTES": "1e6"})
    assert done.returncode == 1 and "SCIS_MAX_NETWORK_BYTES must be a positive whole" in done.stderr
    assert "Traceback" not in done.stderr


def test_finding_8_a_5000_deep_design_chain_is_refused_cleanly_and_200_weave(tmp_path):
    deep = tmp_path / "chain5000.yaml"
    deep.write_text(chain(5000))
    done = scis(tmp_path, "weave", "i0", "1", "-n", str(deep))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert f"{deep}:" in done.stderr
    assert "a design chain deeper than 200 designs: 'd4799' is left out, with the 4,799" in (
        done.stderr
    )
    fine = tmp_path / "chain200.yaml"
    fine.write_text(chain(200))
    done = scis(tmp_path, "weave", "i0", "1", "-n", str(fine), "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"price": 201.0' in done.stdout
    # 10^9 of each input a batch, 20 levels down: more units than any price can count.
    many = tmp_path / "many.yaml"
    many.write_text(chain(20, per_batch=10**9))
    done = scis(tmp_path, "weave", "i0", "1", "-n", str(many))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "would need more than 1,000,000,000,000,000" in done.stderr


def chain_network(depth: int) -> Network:
    """Built in memory, past the file reader's bound: a network whose weave fails."""
    return Network.of(
        participants=[
            Participant("shop", "Shop", ("supplier", "maker")),
            Participant("zoe", "Zoe", ("buyer",)),
            Participant("cora", "Cora", ("coordinator",)),
        ],
        items=[Item(f"i{k}", f"i{k}") for k in range(depth + 1)],
        designs=[Design(f"d{k}", f"i{k}", ((f"i{k + 1}", 1),), labor=1) for k in range(depth)],
        facilities=[Facility("bench", "shop")],
        offers=[Offer("o", "shop", f"i{depth}", price=1.0)],
    )


def test_finding_8_a_weave_that_fails_in_serve_leaves_the_order_failed_and_says_so(engine):
    services = application(engine)
    services.handle(LoadNetwork(None, chain_network(3000)))
    order_id = services.handle(PlaceOrder("zoe", (("i0", 1),), weave_now=False)).value
    # What the worker does; before the fix the exception escaped and the order stayed
    # "weaving" for good (the sweeper handing it out again every tick).
    assert services.handle(WeaveOrder(order_id)).value is None
    with Session(engine) as session:
        order = session.get(OrderRow, order_id)
        assert order.status == "failed"
        assert order.reason == "planning it failed: the network's designs nest too deeply to plan"
        told = {
            n.participant_id: n
            for n in session.exec(select(Notification).where(Notification.order_id == order_id))
        }
        kinds = [
            e.kind for e in session.exec(select(EventRow).where(EventRow.order_id == order_id))
        ]
    assert "weave_failed" in kinds
    assert f"Order {order_id} is stuck: planning it failed" in told["zoe"].text
    assert f"/cancel {order_id}" in told["zoe"].text
    assert f"/reweave {order_id}" in told["cora"].text
    assert services.handle(WeaveOrder(order_id)).value is None  # done with: not tried again
    services.handle(CancelOrder("zoe", order_id))
    with Session(engine) as session:
        assert session.get(OrderRow, order_id).status == "cancelled"


@pytest.mark.parametrize("kind", ["bomb", "deep"])
def test_finding_8_folder_importers_refuse_hostile_yaml_too(tmp_path, kind):
    """An OKW manifest (read by another importer, with its own duplicate-key check)."""
    body = "title: Lab\n"
    if kind == "bomb":
        body += "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 10)
        )
    else:
        body += "supply-atoms: " + "[" * 5000 + "]" * 5000 + "\n"
    body += "title: Lab again\nsupply-atoms: []\n"
    path = tmp_path / "lab.okw.yml"
    path.write_text(body)
    # In a process of its own: before the fix the duplicate-key check walked the bomb for ever.
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(path)],
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        text=True,
        timeout=SECONDS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    errors = done.stdout.splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"{path}:"), errors


LOAD = """
import sys
from core.importers import load_network
for problem in load_network(sys.argv[1:]).errors:
    print(problem)
"""
