"""`scis serve` on a real terminal (a pseudo-terminal), as a person uses it: the chair order typed
line by line, every party played with /as, and what the screen shows checked as it comes.

The process is the real one: SQLite in a temporary directory, the workers as threads in it.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

import pexpect
import pytest

PROJECT = Path(__file__).resolve().parents[2]
CHAIR = [PROJECT / "examples" / "chair.yaml", PROJECT / "tests" / "scenarios" / "seat-maker.yaml"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")
STAGE = re.compile(r"(s\d+) (\w+) (.+) — (.+?), ([^,]+)$")
NAMES = {
    "dana": "Dana Whitfield (Hampden Reading Room)",
    "ana": "Ana's Woodshop",
    "fern": "Fern & Co. Chair Parts",
    "gus": "Gus Pappas Upholstery",
    "hal": "Hal's Upholstery",
    "bob": "Bob's Hardwoods",
    "hana": "Hana Foam Works",
}


def _scis() -> str:
    script = Path(sys.executable).with_name("scis")
    return str(script) if script.exists() else shutil.which("scis")


class Screen:
    """The terminal's output, escape codes removed; `wait` reads until texts appear after the
    last thing waited for (in any order), and fails with the whole screen when they do not."""

    def __init__(self, child: pexpect.spawn):
        self.child = child
        self.raw = ""
        self.mark = 0

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw)

    def wait(self, *texts: str, timeout: float = 30.0, since: int | None = None) -> str:
        """Returns the screen from the mark (or `since`) to the furthest of `texts`, and moves
        the mark there."""
        deadline = time.monotonic() + timeout
        start = self.mark if since is None else since
        while True:
            screen = self.text
            found = [screen.find(t, start) for t in texts]
            if all(at >= 0 for at in found):
                end = max(at + len(t) for at, t in zip(found, texts, strict=True))
                seen, self.mark = screen[start:end], max(end, self.mark)
                return seen
            if time.monotonic() > deadline:
                missing = [t for t, at in zip(texts, found, strict=True) if at < 0]
                pytest.fail(f"not on the screen: {missing}\n--- screen ---\n{screen}")
            try:
                self.raw += self.child.read_nonblocking(65536, timeout=0.2)
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                if time.monotonic() > deadline - timeout + 0.5:  # read what is left, once
                    deadline = time.monotonic()

    def type(self, line: str, *then: str, timeout: float = 30.0) -> str:
        self.child.sendline(line)
        return self.wait(line, *then, timeout=timeout)

    def rest(self) -> str:
        """Everything until the process ends."""
        self.child.expect(pexpect.EOF, timeout=60)
        self.raw += self.child.before or ""
        return self.text


def spawn(tmp_path: Path, *args: str) -> tuple[pexpect.spawn, Screen]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "TELEGRAM_TOKEN", "MATRIX_HOMESERVER")
    }
    env.update(NO_COLOR="1", TERM="xterm", COLUMNS="250", LINES="50")
    child = pexpect.spawn(
        _scis(),
        ["serve", *args],
        cwd=tmp_path,
        env=env,
        encoding="utf-8",
        dimensions=(50, 250),
        timeout=30,
    )
    return child, Screen(child)


def finish(child: pexpect.spawn, screen: Screen) -> str:
    screen.type("/quit", "Bye")
    rest = screen.rest()
    child.close()
    assert child.exitstatus == 0, rest
    assert "Traceback" not in rest and "dramatiq" not in rest.lower(), rest
    return rest


def stages(screen: Screen, order: str) -> list[tuple[str, str, str, str, str]]:
    """(stage, kind, what, owner's id, state) of each line; the list names owners by name."""
    listed = screen.type(f"/stages {order}", "/done 1 STAGE when one of yours is done.")
    ids = {name: who for who, name in NAMES.items()}
    return [
        (stage, kind, what, ids[owner], state)
        for line in listed.splitlines()
        if (m := STAGE.search(line))
        for stage, kind, what, owner, state in [m.groups()]
    ]


def be(screen: Screen, who: str) -> None:
    screen.type(f"/as {who}", f"You are now {NAMES[who]} ({who})")


def test_the_chair_order_typed_on_the_terminal(tmp_path):
    started = time.monotonic()
    child, screen = spawn(tmp_path, *(x for path in CHAIR for x in ("--network", str(path))))
    greeting = screen.wait("You are a newcomer", "/help lists what you can do, /quit leaves.")
    assert "11 participants" in greeting and "chair.yaml, seat-maker.yaml" in greeting
    assert "To begin: /as dana" in greeting
    screen.wait("newcomer> ")

    # Rita, the coordinator: no ready-made seat is left and Ivy is away, so a flood at Hal's
    # leaves only the substitute.
    screen.type("/as rita", "You are now Rita Osei")
    for resource in ("fern-seats", "gus-seats", "ivy"):
        screen.type(f"/disrupt {resource} unavailable", f"({resource}) is out of service")
        screen.wait("is out of service. No live order uses it")  # done: the workers took it in

    be(screen, "dana")
    screen.type("/order chair 2", "I'll message you when your plans are ready")
    # Seats only from Hal: foam 2 ways · fabric 2 ways to hal-shop (bob's delivery or carol's
    # van), then 2 ways to either shop (Hal's delivery or the van, 3.8–4.8 km) = 8; chairs to
    # Dana with chair.yaml's header's 7 and 5 ways for the legs:
    # ana-shop 2 ways · (7 · 8 · 1) + eli-studio 2 ways · (5 · 8 · 1) = 192.
    screen.wait(
        f"→ {NAMES['dana']} Order 1: 192 ways to deliver it. The best:", "[Choose 1] /choose 1 1"
    )
    screen.type("/choose 1 1", "every party gets its part now")
    screen.wait(
        f"→ {NAMES['dana']} Order 1: 2 × Chair",
        f"→ {NAMES['ana']} Order 1: 2 × Chair",
        f"→ {NAMES['fern']} Order 1: 2 × Chair",
        f"→ {NAMES['gus']} Order 1: 2 × Chair",
        f"→ {NAMES['hal']} Order 1: 2 × Chair",
        f"→ {NAMES['bob']} Order 1: 2 × Chair",
        "Your part: make 2 × Seat.",
        "P = 2·K + 8·L + 2·K2 + 2·F + 2·S + 2·B",
    )
    for party in ("ana", "fern", "gus", "hal"):
        be(screen, party)
        screen.type(
            "/agree 1", "Noting your agreement", f"→ {NAMES[party]} Thanks — you agreed to order 1."
        )
    be(screen, "bob")
    screen.type(
        "/agree 1", *(f"→ {NAMES[p]} Order 1 is agreed by everyone." for p in NAMES if p != "hana")
    )

    # The legs, by their owners, in order.
    be(screen, "dana")
    legs = [s for s in stages(screen, "1") if s[2].endswith("Chair leg")]
    assert [(kind, owner) for _, kind, _, owner, _ in legs] == [
        ("confirm", "fern"),
        ("ship", "fern"),
        ("receive", "ana"),
    ]
    for stage, kind, _, owner, _ in legs:
        be(screen, owner)
        screen.type(f"/done 1 {stage}", f"→ {NAMES[owner]} Order 1: {stage} {kind} is done.")

    # Hal's shop floods: nothing else makes seats, so Dana is asked about the substitute.
    be(screen, "hal")
    screen.type("/disrupt hal-shop the shop flooded", "(hal-shop) is out of service")
    alert = screen.wait(
        f"→ {NAMES['dana']} Order 1: the facility of Hal's Upholstery is out of service "
        "(the shop flooded)",
        "(/approve 1 ",
    )
    assert "A substitute could do: Foam seat" in screen.text[screen.mark - len(alert) - 300 :]
    substitution = re.search(r"/approve 1 (\d+) or /reject", screen.text).group(1)
    be(screen, "dana")
    screen.type(
        f"/approve 1 {substitution}",
        f"→ {NAMES['hana']} Order 1: 2 × Chair",
        "Your part: supply 2 × Foam seat",
        f"→ {NAMES['hal']} Order 1 no longer needs your part",
        f"→ {NAMES['dana']} Order 1: Seat replaced by Foam seat",
    )

    # A stranger registers and may not look into the order.
    screen.type("/as newcomer", "You are now someone new")
    screen.type("/register buyer Eve", "Eve (buyer)")
    refused = screen.type("/stages 1", "Sorry — order 1 is only shown to its parties.")
    assert "s1 confirm" not in refused

    # Hana, whom the re-plan brought in, agrees before her stages can start.
    be(screen, "hana")
    screen.type("/agree 1", f"→ {NAMES['hana']} Thanks — noted. Order 1 goes on with you.")

    # Every remaining stage, by its owner, dependencies first.
    be(screen, "dana")
    remaining = [s for s in stages(screen, "1") if s[4] != "done"]
    assert {owner for *_, owner, _ in remaining} == {"gus", "ana", "hana", "dana"}
    last = screen.mark
    for stage, kind, _, owner, _ in remaining:
        be(screen, owner)
        last = screen.mark
        screen.type(f"/done 1 {stage}", f"→ {NAMES[owner]} Order 1: {stage} {kind} is done.")
    # The last stage's owner (Dana, who accepts) hears it in the answer to her /done.
    completed = [f"→ {NAMES['dana']} Order 1: {stage} {kind} is done. Order 1 is complete."] + [
        f"→ {NAMES[p]} Order 1 is complete." for p in ("ana", "fern", "gus", "hana")
    ]
    screen.wait(*completed, since=last)
    final = stages(screen, "1")
    assert {status for *_, status in final} == {"done"}

    rest = finish(child, screen)
    assert "Hal's Upholstery Order 1 is complete" not in rest  # released, not a party any more
    assert (tmp_path / "scis.db").exists() and (tmp_path / "scis.log").exists()
    assert time.monotonic() - started < 90


def test_first_start_loads_hurricane_city_and_greets_a_newcomer(tmp_path):
    child, screen = spawn(tmp_path)
    greeting = screen.wait("You are a newcomer", "/quit leaves.", "newcomer> ")
    assert "42 participants" in greeting and "hurricane-city.yaml" in greeting
    assert "To begin: /as clinica-loiza" in greeting and "/order ITEM QTY" in greeting
    # What the newcomer may do, said by the conversation itself.
    screen.type("/start", "/register buyer YOUR NAME", "newcomer> ")
    screen.type("/as hospital", "No participant hospital. Did you mean hospital-santurce?")
    screen.type("/as hospital-santurce", "You are now Hospital Comunitario de Santurce")
    screen.type("/catalog face", "Face shield [face-shield] — 46,080")
    finish(child, screen)
    assert (tmp_path / "scis.db").exists()
    log = (tmp_path / "scis.log").read_text()
    assert "alembic" in log  # the migrations' log went to the file, not the screen
