"""`scis demo`, run as a person runs it: both scenarios end to end, then what each participant
received, checked line by line."""

from __future__ import annotations

import os
import re
import subprocess
import time
from functools import cache
from pathlib import Path

from scis_command import scis_command

DONE = "Order 1 is complete. Thank you all!"  # the last word every party hears
PARTICIPANT = re.compile(r"^  → (.+) \(([\w.-]+)\) — (\d+) messages?$")


def run_demo(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(NO_COLOR="1", COLUMNS="400")
    began = time.monotonic()
    result = subprocess.run(
        [*scis_command(), "demo", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    return result, time.monotonic() - began


@cache
def _demo_everything(cwd: str) -> tuple[subprocess.CompletedProcess, float]:
    return run_demo(Path(cwd))


def received(output: str, title: str) -> tuple[list[str], dict[str, list[str]]]:
    """The lines typed in the scenario titled `title`, and each participant's messages."""
    section = output.split(title, 1)[1].split("\n───", 1)[0]
    typed_part, received_part = section.split("What each participant received", 1)
    typed = [line.strip() for line in typed_part.splitlines() if re.match(r"^  \S+> ", line)]
    messages: dict[str, list[str]] = {}
    current = None
    for line in received_part.splitlines():
        if found := PARTICIPANT.match(line):
            current = found.group(2)
            messages[current] = []
            count = int(found.group(3))
        elif current and line.startswith("      "):
            messages[current].append(line.strip())
            assert len(messages[current]) <= count
    return typed, messages


def has(lines: list[str], *words: str) -> bool:
    return any(all(w in line for w in words) for line in lines)


def test_the_demo_replays_both_scenarios(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("demo")
    result, seconds = _demo_everything(str(cwd))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == "" and "Traceback" not in result.stdout
    assert seconds < 60
    assert list(cwd.iterdir()) == []  # a temporary database, not ./scis.db

    typed, got = received(result.stdout, "The paper's chair")
    assert typed[:4] == [
        "rita> /disrupt fern-seats sold out",
        "rita> /disrupt gus-seats sold out",
        "dana> /order chair 2",
        "dana> /choose 1 1",
    ]
    assert "hal> /disrupt hal-shop the shop flooded" in typed
    # the new maker and the holder agree to their new parts before the rest is done
    flood = typed.index("hal> /disrupt hal-shop the shop flooded")
    assert {"ivy> /agree 1", "hal> /agree 1"} <= set(typed[flood:])
    assert typed[-1] == "dana> /done 1 s21"
    dana = got["dana"]
    assert has(dana, "frame: Order 1: 2 × Chair", "You are the buyer")
    assert has(
        dana,
        "replanned: Order 1: hal-shop is out of service",
        "Ivy Okafor Upholstery",
        "Hal's Upholstery forwards 2 × Foam block",
    )
    assert dana[-1].startswith("completed: Order 1: s") and dana[-1].endswith(DONE)
    assert has(got["hal"], "frame:", "Your part: make 2 × Seat.")
    assert has(got["hal"], "frame:", "Your part: send on the 2 × Foam block you hold for it.")
    assert has(got["ivy"], "frame:", "Your part: make 2 × Seat.")
    assert has(got["fern"], "frame:", "Your part: supply 8 × Chair leg.")
    assert got["bob"][-1].startswith("released: Order 1 no longer needs your part")  # delivered
    for party in ("ana", "fern", "gus", "hal", "ivy"):
        assert got[party][-1] == "completed: " + DONE, party
    assert "Order 1: completed." in result.stdout.split("Hurricane city", 1)[0]

    typed, got = received(result.stdout, "Hurricane city")
    assert typed[:3] == [
        "marisol> /watch mf-santurce",
        "hospital-santurce> /order face-shield 200",
        "hospital-santurce> /choose 1 1",
    ]
    assert "fablab-santurce> /disrupt mf-santurce the generator failed" in typed
    assert has(got["marisol"], "alert: Microfactoría de Santurce is out of service")
    hospital = got["hospital-santurce"]
    assert has(hospital, "plans: Order 1: 46,080 ways to deliver it.")
    assert has(hospital, "replanned: Order 1: Microfactoría de Santurce is out of service")
    assert hospital[-1].startswith("completed: Order 1: s") and hospital[-1].endswith(DONE)
    fablab = got["fablab-santurce"]
    assert has(fablab, "frame:", "Your part: make 200 × Face shield.")
    assert has(fablab, "frame:", "Your part: send on the 200 × Face-shield visor you hold")
    assert fablab[-1] == "completed: " + DONE
    assert has(got["upr-rp"], "frame:", "Your part: make 200 × Face shield.")
    assert has(got["plasticos-caribe"], "agreed: Order 1 is agreed by everyone.")
    assert "Order 1: completed." in result.stdout.split("Hurricane city", 1)[1]


def test_one_scenario_and_a_wrong_one(tmp_path):
    result, _ = run_demo(tmp_path, "--scenario", "hurricane")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Hurricane city" in result.stdout and "The paper's chair" not in result.stdout

    result, _ = run_demo(tmp_path, "--scenario", "chairs")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == "error: --scenario takes chair, hurricane or all, not 'chairs'"
