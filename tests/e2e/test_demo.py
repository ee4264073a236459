"""`scis demo`, run as a person runs it and piped as a script reads it: both scenarios end to
end, each line typed followed by SCIS's answer and then by what every participant received
because of it."""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from scis_command import scis_command

DONE = "Order 1 is complete. Thank you all!"  # the last word every party hears
TYPED = re.compile(r"^  ([\w.-]+) types (/.*)$")
ANSWER = re.compile(r"^      SCIS: (.*)$")
# "→ Dana Whitfield (Hampden Reading Room) (frame): Order 1: …": the kind is one lower-case word
EFFECT = re.compile(r"^      → (.+?) \(([a-z_]+)\): (.*)$")
TIMING = re.compile(r"^(chair|hurricane|capacity): \d+\.\d s$")


@dataclass
class Step:
    who: str
    typed: str
    answer: str = ""
    effects: list[tuple[str, str, str]] = field(default_factory=list)  # (name, kind, text)

    def got(self, name: str, kind: str, *words: str) -> bool:
        return any(
            n == name and k == kind and all(w in text for w in words) for n, k, text in self.effects
        )


def run_demo(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    # No COLUMNS: captured, stdout is a pipe, where rich would wrap at 80 columns.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "COLUMNS")}
    env.update(NO_COLOR="1")
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


def steps(output: str, title: str) -> list[Step]:
    """The lines typed in the scenario titled `title`, each with its answer and effects."""
    section = output.split(title, 1)[1].split("\n───", 1)[0]
    found: list[Step] = []
    for line in section.splitlines():
        if typed := TYPED.match(line):
            found.append(Step(typed[1], typed[2]))
        elif answer := ANSWER.match(line):
            found[-1].answer = answer[1]
        elif effect := EFFECT.match(line):
            found[-1].effects.append((effect[1], effect[2], effect[3]))
    return found


def step(found: list[Step], who: str, typed: str) -> Step:
    return next(s for s in found if (s.who, s.typed) == (who, typed))


def test_the_demo_tells_each_step_then_its_effects(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("demo")
    result, seconds = _demo_everything(str(cwd))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == "" and "Traceback" not in result.stdout
    assert seconds < 60
    assert list(cwd.iterdir()) == []  # a temporary database, not ./scis.db

    chair = steps(result.stdout, "The paper's chair")
    assert [(s.who, s.typed) for s in chair[:4]] == [
        ("rita", "/disrupt fern-seats sold out"),
        ("rita", "/disrupt gus-seats sold out"),
        ("dana", "/order chair 2"),
        ("dana", "/choose 1 1"),
    ]
    # the plans follow the order, the frames follow the choice: cause, then effect
    # Hal's and Ivy's seats only (the others sold out), each way of moving every part counted:
    # at ana-shop 2 ways to Dana × 7 of legs × 16 of seats (Hal's 2·2·2 + Ivy's 2·2·2) = 224,
    # at eli-studio 2 × 5 × 16 = 160 (examples/chair.yaml's header): 384.
    assert step(chair, "dana", "/order chair 2").got(
        "Dana Whitfield (Hampden Reading Room)", "plans", "Order 1: 384 ways"
    )
    chosen = step(chair, "dana", "/choose 1 1")
    assert chosen.answer.startswith("Choosing plan 1 for order 1")
    assert chosen.got("Dana Whitfield (Hampden Reading Room)", "frame", "You are the buyer")
    assert chosen.got("Hal's Upholstery", "frame", "Your part: make 2 × Seat.")
    assert chosen.got("Fern & Co. Chair Parts", "frame", "Your part: supply 8 × Chair leg.")
    flood = step(chair, "hal", "/disrupt hal-shop the shop flooded")
    assert flood.got(
        "Dana Whitfield (Hampden Reading Room)", "replanned", "Hal's Upholstery forwards"
    )
    assert flood.got("Ivy Okafor Upholstery", "frame", "Your part: make 2 × Seat.")
    assert flood.got("Hal's Upholstery", "frame", "Your part: send on the 2 × Foam block")
    after = chair[chair.index(flood) :]
    assert {("ivy", "/agree 1"), ("hal", "/agree 1")} <= {(s.who, s.typed) for s in after}
    last = chair[-1]
    assert (last.who, last.typed) == ("dana", "/done 1 s21")
    for name in ("Ana's Woodshop", "Hal's Upholstery", "Ivy Okafor Upholstery"):
        assert last.got(name, "completed", DONE), name
    assert "Order 1: completed." in result.stdout.split("Hurricane city", 1)[0]

    hurricane = steps(result.stdout, "Hurricane city")
    assert [s.who for s in hurricane[:2]] == ["marisol", "hospital-santurce"]
    assert hurricane[0].typed == "/watch mf-santurce"
    # Needed in two weeks: the plans offered all arrive by then, and each says when.
    assert re.fullmatch(r"/order face-shield 200 by \d{4}-\d\d-\d\d", hurricane[1].typed)
    hospital = "Hospital Comunitario de Santurce (compras)"
    ordered = hurricane[1]
    assert ordered.got(hospital, "plans", "ways to deliver it by ", " · arrives ")
    choice = hurricane[2]
    assert choice.who == "hospital-santurce" and choice.typed.startswith("/choose 1 ")
    assert choice.got("Fab Lab Santurce", "frame", "Your part: make 200 × Face shield by ")
    assert choice.got("Municipio de San Juan, Flota Municipal", "frame", "Your part: carry 200 ×")
    outage = step(hurricane, "fablab-santurce", "/disrupt mf-santurce the generator failed")
    marisol = "Marisol Vega, Oficina Municipal para el Manejo de Emergencias"
    assert outage.got(marisol, "alert", "Microfactoría de Santurce", "is out of service")
    assert outage.got(hospital, "replanned", "Microfactoría de Santurce is out of service")
    assert outage.got("Fab Lab Santurce", "frame", "Your part: send on the 200 × Face-shield visor")
    assert hurricane[-1].got(hospital, "completed", DONE)
    assert "Order 1: completed." in result.stdout.split("Hurricane city", 1)[1]

    # The clinic's 790 masks fill the Carolina microfactory's week; the hospital's 200 are
    # split across the sewers with room, and everyone agrees to their share.
    full = steps(result.stdout, "Hurricane city: a full week")
    second = step(full, "hospital-santurce", "/order cloth-mask 200")
    assert second.got(hospital, "plans", "so it is split: ", " Cloth face mask from ")
    assert full[-1].got(hospital, "agreed", "Order 2 is agreed by everyone")


def test_the_demo_piped_is_one_line_per_thing_said(tmp_path_factory):
    """Piped, nothing wraps at 80 columns and no markup leaks: every line is a rule, a
    narration, a typed line, an answer, an effect, a timing or a blank."""
    result, _ = _demo_everything(str(tmp_path_factory.mktemp("demo")))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(len(line) > 100 for line in lines)  # long messages kept on their line
    assert "[bold" not in result.stdout and "[/" not in result.stdout
    for line in lines:
        if not line.strip() or line.startswith("─") or TIMING.match(line):
            continue
        if line.startswith(" "):
            assert TYPED.match(line) or ANSWER.match(line) or EFFECT.match(line), line
        else:  # a narration, or how an order ended: a whole sentence
            assert line[0].isupper() and line.rstrip().endswith("."), line


def test_one_scenario_and_a_wrong_one(tmp_path):
    result, _ = run_demo(tmp_path, "--scenario", "hurricane")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Hurricane city" in result.stdout and "The paper's chair" not in result.stdout

    result, _ = run_demo(tmp_path, "--scenario", "chairs")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == (
        "error: --scenario takes chair, hurricane, capacity or all, not 'chairs'"
    )
