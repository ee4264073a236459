"""The `scis` command line."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from typing import Annotated

import typer

from bots.cli_arguments import delivery_place, find_item, positive_int, read_criteria, read_network
from bots.cli_db import db_app
from bots.cli_demo import demo
from bots.cli_fragility import fragility
from bots.cli_health import health
from bots.cli_options import MARKUP, JsonOption, NetworkOption
from bots.cli_output import fail, out, say_error, usage_error
from bots.cli_risk import risk
from bots.cli_serve import serve
from bots.cli_survival import survival
from bots.cli_valueflows import export_app, import_app
from bots.cli_worker import worker
from bots.plan_view import (
    arrival_text,
    catalog_json,
    no_plan_reason,
    plan_json,
    print_catalog,
    print_weave,
)
from core.intents.dates import DateError, named_day
from core.plan_counts import exact_text, how_many
from core.risk.reliability import Reliability
from core.service.weaving import due_window
from core.weave import RANKINGS, Demand, Weave, WeaveError, orderable_catalog

app = typer.Typer(
    help="SCIS: weave, price and coordinate community supply chains.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=MARKUP,
)
app.add_typer(db_app, name="db")
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")
app.command()(worker)
app.command()(health)
app.command()(serve)
app.command()(demo)
# Like `weave`: unknown options pass through, so that `risk chair -1` meets the quantity check.
app.command(context_settings={"ignore_unknown_options": True})(risk)
app.command()(fragility)
app.command()(survival)


# Unknown options pass through as arguments so that `weave chair -1` meets the quantity check.
@app.command(context_settings={"ignore_unknown_options": True})
def weave(
    item: Annotated[str, typer.Argument(help="Item id or name.")],
    quantity: Annotated[str, typer.Argument(help="How many, a positive whole number.")],
    network: NetworkOption,
    top: Annotated[int, typer.Option("--top", "-k", min=1, help="How many plans to show.")] = 5,
    rank: Annotated[str, typer.Option(help=" | ".join(RANKINGS) + ".")] = "price",
    criteria: Annotated[
        str, typer.Option(help="Quality criteria every part must meet, e.g. latex-free.")
    ] = "",
    deliver_to: Annotated[
        str | None, typer.Option(help="Where the goods go: LAT,LON or a participant id.")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(help="Only plans that arrive by the end of this day (2026-12-20, Friday)."),
    ] = None,
    as_json: JsonOption = False,
):
    """In how many ways can the network deliver QUANTITY of ITEM, and which are the best?"""
    count = positive_int(quantity, "quantity")
    if rank not in RANKINGS:
        fail(f"--rank must be one of {', '.join(RANKINGS)}, not {rank!r}")
    loaded = read_network(network)
    found = find_item(loaded, item)
    wanted = read_criteria(criteria, loaded)
    started = datetime.now(UTC).replace(tzinfo=None)
    due = read_day(by, started.date()) if by is not None else None

    def woven_by(ranking: str, window: int | None) -> Weave:
        return Weave(
            loaded,
            [Demand(found.id, count)],
            criteria=wanted,
            # Risk is per stage, as plans and `scis risk` show it (declared figures: no history).
            ranking=RANKINGS[ranking].with_reliability(Reliability(loaded)),
            deliver_to=delivery_place(loaded, deliver_to),
            # A participant's id: the goods go to them (and they may fetch them themselves).
            buyer=deliver_to if deliver_to in loaded.participants else None,
            within_minutes=window,
        )

    try:
        woven = woven_by(rank, due_window(due, started))
        total = woven.count()
        plans = woven.best(top)
        every = woven.count_unwindowed() if due is not None else total
    except WeaveError as exc:
        fail(str(exc))
    if not every:
        # Nothing to show is not an answer: the person asked for what cannot be had, and why.
        buyer = deliver_to if deliver_to in loaded.participants else None
        place = delivery_place(loaded, deliver_to)
        fail(no_plan_reason(loaded, found, count, wanted, buyer, place))
    if not total:  # plans there are, none by the day asked: when could the soonest come?
        soonest = woven_by("soonest", None).plan(1)
        fail(f"no plan arrives by {due.isoformat()}; the soonest {arrival_text(soonest)}")
    if as_json:
        document = {
            "item": found.id,
            "quantity": count,
            "plan_count": exact_text(total),
            **({"plans_too_late": exact_text(every - total)} if due is not None else {}),
            "plans": [plan_json(loaded, plan) for plan in plans],
        }
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    print_weave(out, loaded, found, count, total, plans, wanted, rank)
    if due is not None and every > total:
        out.print(f"{how_many(every - total)} more plans cannot arrive by {due}.", highlight=False)


def read_day(text: str, today: date) -> date:
    """`--by`: a day as the chat reads it (2026-12-20, Friday, Dec 20, tomorrow)."""
    try:
        return named_day(text, today)
    except (DateError, OverflowError):
        fail(f"--by takes a day like 2026-12-20, Friday or Dec 20, not {text!r}")


@app.command()
def catalog(
    network: NetworkOption,
    criteria: Annotated[str, typer.Option(help="Only plans meeting these, e.g. latex-free.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list on stdout.")] = False,
):
    """Every item of the network, whether it can be ordered, and in how many ways."""
    loaded = read_network(network)
    wanted = read_criteria(criteria, loaded)
    entries = orderable_catalog(loaded, wanted)
    if as_json:
        json.dump(catalog_json(entries), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    print_catalog(out, entries)


def main() -> None:
    """`scis`: Typer's own mistakes (an unknown option, a missing argument) are said in the
    same `error: …` line as every other, exit status 2; a command's end is its status."""
    try:
        status = app(standalone_mode=False)
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `scis` alone: the help is the answer
            sys.exit(0)
        sys.exit(usage_error(exc))
    except typer.Abort:
        say_error("stopped")
        sys.exit(1)
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
