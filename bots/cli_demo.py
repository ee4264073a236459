"""`scis demo`: the paper's chair scenario and a hurricane-city disruption, replayed end to end
as typed chat lines on the embedded default (a temporary SQLite database, the workers in this
process). Each line typed is followed by SCIS's answer and then by what every participant
received because of it, so that cause and effect read together."""

from __future__ import annotations

import itertools
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.rule import Rule

from bots.cli_output import fail, say_error

if TYPE_CHECKING:  # the CLI starts fast: SCIS is put together when a demo runs
    from bots.bootstrap import App
    from core.service.listings import StageLine

PROJECT = Path(__file__).resolve().parent.parent
CHAIR = [PROJECT / "examples" / "chair.yaml", PROJECT / "tests" / "scenarios" / "seat-maker.yaml"]
HURRICANE = [PROJECT / "examples" / "hurricane-city.yaml"]
SHORT = 170  # characters of a message shown after the line that caused it


@dataclass(frozen=True)
class Received:
    participant: str
    kind: str
    text: str
    order_id: int | None
    payload: dict


class CollectingSender:
    """The outbox of the console platform, kept in memory: what each participant received."""

    platform = "console"

    def __init__(self):
        self.received: list[Received] = []
        self._lock = threading.Lock()

    def send(self, address: str, message) -> None:
        with self._lock:
            self.received.append(
                Received(address, message.kind, message.text, message.order_id, message.payload)
            )


@dataclass
class Play:
    """People typing to SCIS on the console, one line at a time, the workers settled after each."""

    app: App
    console: Console
    collected: CollectingSender
    names: dict[str, str] = field(default_factory=dict)  # participant id → what people call them
    problems: list[str] = field(default_factory=list)

    def __post_init__(self):
        from bots.conversation.rate_limit import RateLimiter

        # The replay packs days of typing into seconds: no person is typing too fast.
        unlimited = RateLimiter(per_minute=1e9, burst=10**9)
        self.conversation = self.app.conversation(limiter=unlimited)
        self._ids = itertools.count(1)

    def say(self, who: str, text: str) -> str:
        """`who` types `text`: the line, SCIS's answer, then every message it caused."""
        from bots.conversation.messages import Incoming

        self.console.print(f"  {escape(who)} types {escape(text)}")
        before = len(self.collected.received)
        incoming = Incoming("console", who, f"demo:{next(self._ids)}", text)
        replies = self.conversation.answer(incoming)
        if not self.app.settle(timeout=30):
            self.problems.append(f"the workers were still busy 30 s after {who}: {text}")
        answer = "\n".join(reply.text for reply in replies)
        first = answer.splitlines()[0] if answer else ""
        if first:
            self.console.print(f"      [dim]SCIS: {escape(_cut(first))}[/]")
        for received in self.collected.received[before:]:
            who_got = self.names.get(received.participant, received.participant)
            self.console.print(
                f"      → {escape(who_got)} ({escape(received.kind)}): {escape(_short(received))}"
            )
        return answer

    def last(self, participant: str, kind: str) -> Received | None:
        found = [
            r for r in self.collected.received if r.participant == participant and r.kind == kind
        ]
        return found[-1] if found else None

    def order(self, buyer: str, line: str, through: str | None = None) -> int | None:
        """The buyer orders (`line` typed) and chooses the best plan — the best that goes
        through the facility `through`, when the story is about it; the order's number."""
        self.say(buyer, line)
        plans = self.last(buyer, "plans")
        if plans is None:
            self.problems.append(f"{buyer} received no plans")
            return None
        rank = 1 if through is None else self._best_through(plans.order_id, through)
        if rank is None:
            self.problems.append(f"no plan offered for order {plans.order_id} uses {through}")
            return None
        self.say(buyer, f"/choose {plans.order_id} {rank}")
        return plans.order_id

    def _best_through(self, order: int, facility: str, pages: int = 10) -> int | None:
        """The rank of the best plan that uses `facility`, paging as `/plans` does (plans that
        differ only by which truck carries a part come first in a city of ten trucks)."""
        from core.service.plan_pages import plan_page

        services = self.app.services
        for page in range(1, pages + 1):
            found = services.read(lambda session, p=page: plan_page(services, session, order, p))
            for line in found.plans:
                if any(part.source.endswith(f"@{facility}") for part in line.parts):
                    return line.rank
            if page >= found.pages:
                return None
        return None

    def stages(self, who: str, order: int) -> list[StageLine]:
        """The order's stages as `who` sees them with /stages, dependencies first."""
        from core.service.listings import stage_list

        self.say(who, f"/stages {order}")
        services = self.app.services
        return services.read(lambda session: stage_list(services, session, order)).stages

    def finish(self, who: str, order: int) -> None:
        """Every stage not yet done, asserted by its owner, dependencies first."""
        for stage in self.stages(who, order):
            if stage.status != "done":
                self.say(stage.owner, f"/done {order} {stage.id}")

    def agree_all(self, order: int) -> None:
        """Everyone the order waits for agrees (after a choice, or after a re-plan)."""
        for party in self._awaited(order):
            self.say(party, f"/agree {order}")

    def _awaited(self, order: int) -> list[str]:
        from core.service import lifecycle, records

        def read(session):
            contract = lifecycle.live_contract(session, order)
            row = records.order(session, order)
            return [] if contract is None else lifecycle.awaited(session, contract, row)

        return self.app.services.read(read)

    def completed(self, order: int) -> None:
        """Say how the order ended; a story that does not end in a completed order failed."""
        from core.service import records

        row = self.app.services.read(lambda session: records.order(session, order))
        self.console.print(f"[bold]Order {order}: {row.status.replace('_', ' ')}.")
        if row.status != "completed":
            self.problems.append(f"order {order} ended {row.status}: {row.reason}")

    def expect(self, participant: str, kind: str, words: str) -> None:
        if not any(
            r.participant == participant and r.kind == kind and words in r.text
            for r in self.collected.received
        ):
            self.problems.append(f"{participant} did not receive a {kind} saying {words!r}")


def chair(play: Play) -> None:
    """Dana orders two chairs; Hal's shop floods once Bob's foam and fabric are there, Ivy makes
    the seats instead with what Hal sends on, and the chairs are delivered."""
    play.console.print("[italic]Rita, the coordinator: ready-made seats are sold out.")
    play.say("rita", "/disrupt fern-seats sold out")
    play.say("rita", "/disrupt gus-seats sold out")
    play.console.print("[italic]Dana orders two chairs and chooses the best plan.")
    order = play.order("dana", "/order chair 2")
    if order is None:
        return
    play.console.print("[italic]Every party agrees.")
    play.agree_all(order)
    play.console.print("[italic]Bob's foam and fabric reach Hal; the legs reach Ana.")
    for stage in play.stages("dana", order):
        if stage.item in ("Foam block", "Seat fabric", "Chair leg"):
            play.say(stage.owner, f"/done {order} {stage.id}")
    play.console.print("[italic]Hal's shop floods; what he received is kept dry upstairs.")
    play.say("hal", "/disrupt hal-shop the shop flooded")
    play.expect("dana", "replanned", "Hal's Upholstery forwards")
    play.console.print("[italic]Ivy and Hal agree to their new parts.")
    play.agree_all(order)
    play.console.print("[italic]Every remaining stage is done by its owner.")
    play.finish("dana", order)
    play.expect("dana", "completed", f"Order {order} is complete")
    play.expect("ivy", "frame", "make 2 × Seat")
    play.expect("hal", "frame", "send on the")
    play.completed(order)


def hurricane(play: Play) -> None:
    """The hospital orders 200 face shields; once the visors and PP sheets are at the Santurce
    microfactory it loses power: the shields are made elsewhere with what Fab Lab sends on, and
    the parties and the coordinator watching it are alerted."""
    play.console.print(
        "[italic]Marisol, the city's coordinator, watches the Santurce microfactory."
    )
    play.say("marisol", "/watch mf-santurce")
    due = (datetime.now(UTC) + timedelta(days=14)).date()
    play.console.print(
        f"[italic]The hospital needs 200 face shields by {due:%a %d %b}: it orders them and "
        "chooses the best plan that has them made at the Santurce microfactory."
    )
    order = play.order(
        "hospital-santurce", f"/order face-shield 200 by {due.isoformat()}", through="mf-santurce"
    )
    if order is None:
        return
    play.console.print("[italic]Every party agrees; visors and PP sheets reach Fab Lab.")
    play.agree_all(order)
    for stage in play.stages("hospital-santurce", order):
        if stage.item.startswith(("Face-shield visor", "Polypropylene sheet")):
            play.say(stage.owner, f"/done {order} {stage.id}")
    play.console.print("[italic]The Santurce microfactory's generator fails.")
    play.say("fablab-santurce", "/disrupt mf-santurce the generator failed")
    play.expect("marisol", "alert", "out of service")
    play.expect("hospital-santurce", "replanned", "Fab Lab Santurce forwards")
    play.console.print("[italic]Whoever the re-plan brought in agrees.")
    play.agree_all(order)
    play.console.print("[italic]Every remaining stage is done by its owner.")
    play.finish("hospital-santurce", order)
    play.expect("hospital-santurce", "completed", f"Order {order} is complete")
    play.completed(order)


def capacity(play: Play) -> None:
    """A clinic's big order fills the Carolina microfactory's week of cloth masks; the
    hospital's order, woven over what is left, is split across the makers with room."""
    play.console.print("[italic]The clinic orders 790 cloth masks; every party agrees.")
    first = play.order("clinica-loiza", "/order cloth-mask 790")
    if first is None:
        return
    play.agree_all(first)
    play.console.print(
        "[italic]The hospital orders 200 more: no one sewer has room for all of them this week."
    )
    second = play.order("hospital-santurce", "/order cloth-mask 200")
    if second is None:
        return
    play.expect("hospital-santurce", "plans", "so it is split")
    play.agree_all(second)
    play.expect("hospital-santurce", "agreed", f"Order {second}")


SCENARIOS: dict[str, tuple[str, list[Path], Callable[[Play], None]]] = {
    "chair": ("The paper's chair: a flood, a substitute, two chairs delivered", CHAIR, chair),
    "hurricane": (
        "Hurricane city: a microfactory goes down, the order is re-planned",
        HURRICANE,
        hurricane,
    ),
    "capacity": (
        "Hurricane city: a full week of masks, the next order split across sewers",
        HURRICANE,
        capacity,
    ),
}


def demo(
    scenario: Annotated[
        str, typer.Option(help="chair | hurricane | capacity | all: which scenario to replay.")
    ] = "all",
):
    """Replay the paper's chair scenario and a hurricane-city disruption end to end on the
    embedded default: each line typed, then what each participant received because of it."""
    wanted = list(SCENARIOS) if scenario == "all" else [scenario]
    if any(name not in SCENARIOS for name in wanted):
        fail(f"--scenario takes {', '.join(SCENARIOS)} or all, not {scenario!r}")
    console = Console(highlight=False)
    # Piped or redirected, a line stays one line: no breaking at 80 columns mid-message.
    console.soft_wrap = not console.is_terminal
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="scis-demo-") as workdir:
        errors = _log_to(Path(workdir) / "demo.log")
        try:
            for name in wanted:
                problems += _replay(console, Path(workdir), name)
        finally:
            logging.getLogger().removeHandler(errors)
        problems += [f"logged: {message}" for message in errors.messages]
    if problems:
        for problem in problems[:-1]:
            say_error(problem)
        fail(problems[-1])


def _replay(console: Console, workdir: Path, name: str) -> list[str]:
    from bots.bootstrap import Settings, bootstrap
    from core.service.commands import SpeakForEveryone

    title, network, play_it = SCENARIOS[name]
    began = time.monotonic()
    console.print(Rule(f"[bold]{escape(title)}"))
    collected = CollectingSender()
    # The embedded default whatever the environment says: a Redis broker would need workers.
    settings = Settings(database_url=f"sqlite:///{workdir / name}.db")
    app = bootstrap(settings, senders={collected.platform: collected})
    try:
        app.load_networks(network)
        app.services.handle(SpeakForEveryone(collected.platform))
        play = Play(app, console, collected, names=app.participants())
        console.print("Each line typed (who types what), SCIS's answer, then → who received what.")
        play_it(play)
    finally:
        app.stop()
    console.print(f"[dim]{name}: {time.monotonic() - began:.1f} s[/]")
    console.print()
    return [f"{name}: {problem}" for problem in play.problems]


def _short(message: Received) -> str:
    lines = [line.strip() for line in message.text.splitlines() if line.strip()]
    text = lines[0] if lines else ""
    if message.kind == "frame":
        text = " — ".join([text, *(x for x in lines if x.startswith(("Your part", "You are")))])
    elif message.kind == "plans" and len(lines) > 1:
        text = f"{text} {lines[1]}"
    return _cut(text)


def _cut(text: str) -> str:
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


class _Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}")


def _log_to(path: Path) -> _Errors:
    """The workers' log goes to a file; errors are also kept, to fail the demo."""
    from bots.logs import log_to_file

    log_to_file(path)
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    return errors
