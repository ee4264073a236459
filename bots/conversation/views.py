"""How answers look in chat: short text, buttons where a person would rather press than type.
Platform-neutral; each adapter renders a `Reply` natively."""

from __future__ import annotations

from collections.abc import Iterable

from bots.conversation.declaration import Command, may_use, who_may
from bots.conversation.history import HistoryPage
from bots.conversation.messages import Button, Picture, Reply
from bots.conversation.next_steps import command_text
from bots.conversation.plan_lines import plan_lines
from core.plan_counts import how_many
from core.service.commands import AcceptMatch, Agree, AssertStage, ChoosePlan
from core.service.intents import IntentLine, MatchLine
from core.service.lifecycle import DESCRIBED, STUCK, OrderStatus
from core.service.listings import (
    SHOWN_WORDS,
    WAITING,
    Duties,
    OrderList,
    StageList,
)
from core.service.notices import Next, Rendered, View
from core.service.plan_pages import PlanPage
from core.service.queries import OrderState
from core.service.risk import RISKIEST, OrderRisk, percent
from core.weave import CatalogEntry

MAX_REPLY = 4000  # chat platforms cap a message near 4,096 characters
CATALOG_LINES = 10
STAGE_LINES = 40
HISTORY_LINES = 15
INTENT_LINES = 15
TASK_BUTTONS = 6
ORDER_LINES = 12

JOIN_HINT = (
    "To take part: /register buyer YOUR NAME to order things, or /join CODE with the invite "
    "code a coordinator gave you."
)


def reply(text: str, buttons=(), picture: Picture | None = None) -> Reply:
    if len(text) > MAX_REPLY:
        text = text[: MAX_REPLY - 14] + " … (shortened)"
    rows = tuple(tuple(Button(label, command) for label, command in row) for row in buttons)
    return Reply(text, rows, picture)


def rendered(notice: Rendered) -> Reply:
    """A notice's words as a reply: a read that shows what a notice would (/terms)."""
    row = tuple((str(label), str(command)) for label, command in notice.payload.get("buttons", ()))
    return reply(notice.text, (row,) if row else ())


def start(name: str | None) -> Reply:
    if name is None:
        return reply(
            "Hello! I coordinate community supply chains: I find every way makers, suppliers "
            f"and transporters nearby can deliver what you need. {JOIN_HINT} "
            "/catalog shows what can be ordered."
        )
    return reply(f"Hello, {name}! /tasks shows what you owe; /help lists what you can do.")


def help_list(
    commands: Iterable[Command], roles: list[str] | None, *, everything: bool = False
) -> Reply:
    """One short line a command, in the order given (a role's most used first); `everything`:
    every command the person may use, with its whole help."""
    usable = [c for c in commands if may_use(c, roles)]
    if everything:
        lines = ["Everything you can do:", *(f"{c.usage} — {c.help}" for c in usable)]
        return reply("\n".join([*lines, "/help COMMAND tells more about one."]))
    lines = ["What you can do:", *(f"{_short_usage(c)} — {_gist(c.help)}" for c in usable)]
    if roles is None:
        lines.append(JOIN_HINT)
    else:
        lines.append("/help all lists everything; /help COMMAND tells more about one.")
    return reply("\n".join(lines))


def _short_usage(command: Command) -> str:
    """The command and what it cannot do without: `/order ITEM QTY`, `/choose ORDER`."""
    return " ".join([f"/{command.name}", *(a.name for a in command.arguments if not a.optional)])


def _gist(text: str) -> str:
    """The help's first clause: what the command is for, in a few words."""
    for stop in ("; ", ": ", " (", ". "):
        text = text.split(stop, 1)[0]
    return text.rstrip(".")


def help_topic(command: Command | None, topic: str, roles: list[str] | None) -> Reply:
    if command is None:
        return reply(f"I have no /{topic[:30]} command. /help lists what you can do.")
    text = f"{command.usage} — {command.help}"
    if not may_use(command, roles):
        text += f" (for {who_may(command.who)}; {'join first' if roles is None else 'not for you'})"
    return reply(text)


def catalog(entries: list[CatalogEntry], words: str, page: int = 1) -> Reply:
    """One page of what can be ordered, finished goods first (listings.finished_first)."""
    narrowed = f" matching “{words[:60]}”" if words else ""
    if not entries:
        return reply(f"Nothing{narrowed} can be ordered right now. /catalog shows everything.")
    pages = -(-len(entries) // CATALOG_LINES)
    if page > pages:
        return reply(
            f"The catalog{narrowed} has {pages} page{'s' if pages > 1 else ''}. "
            f"/catalog {words + ' ' if words else ''}1 shows the first."
        )
    where = f", page {page} of {pages}" if pages > 1 else ""
    lines = [f"What can be ordered{narrowed}{where} (item — ways to deliver it):"]
    for entry in entries[(page - 1) * CATALOG_LINES : page * CATALOG_LINES]:
        item = entry.item
        name = item.name if item.name == item.id else f"{item.name} [{item.id}]"
        lines.append(f"  {name} — {how_many(entry.plan_count)}")
    rows = []
    if page < pages:
        more = _typed(Next(View.CATALOG, (*([words] if words else []), page + 1)))
        lines.append(f"{more} shows more; /catalog WORDS narrows it.")
        rows.append([("More", more)])
    lines.append("/order ITEM QTY to order one.")
    return reply("\n".join(lines), rows)


def plans(page: PlanPage, reader: str) -> Reply:
    """A page of an order's plans (plan_lines words them), to choose from and page through."""
    order = page.order_id
    if not page.plans:
        return reply(f"Order {order} has no plans yet ({page.status}). You'll hear when it has.")
    count = f"{how_many(page.plan_count)} ways to deliver it; " if page.plan_count else ""
    where = f"page {page.page:,} of {page.pages:,}" if page.pages > 1 else "the best"
    lines = [f"Order {order}: {count}{where}:", *plan_lines(page.plans, page.chosen)]
    rows = []
    if page.choosable and reader == page.buyer:
        choose = _typed(Next(ChoosePlan, (order, "N")))
        lines.append(f"Press a plan (or {choose}); every party then gets its part.")
        rows.append(
            [(f"Choose {p.rank}", _typed(Next(ChoosePlan, (order, p.rank)))) for p in page.plans]
        )
    elif page.chosen is not None:
        lines.append(f"{_typed(Next(View.STAGES, (order,)))} shows how it is going.")
    turn = []
    if page.page > 1:
        turn.append(("Previous", _typed(Next(View.PLANS, (order, page.page - 1)))))
    if page.page < page.pages:
        turn.append(("Next plans", _typed(Next(View.PLANS, (order, page.page + 1)))))
    if turn:
        rows.append(turn)
    return reply("\n".join(lines), rows)


_MARK = {"done": "✓", "failed": "✗", "pending": "·"}


def stages(
    listing: StageList, picture: bytes | None, unserved: list[str] = (), blocked: bool = False
) -> Reply:
    """`unserved`: the plan's sources the network can no longer serve (assess); `blocked`:
    the order waits because nothing could replace them."""
    order = listing.order_id
    lines = [f"Order {order}: {listing.done} of {listing.total} stages done ({listing.percent}%)."]
    if unserved:
        # Only what is sure to follow is said: a blocked order is planned again when its buyer
        # approves a substitute or a disrupted source is restored, and otherwise waits; a
        # network loaded without a source re-plans nothing by itself. /reweave re-plans in
        # every case (a disruption's own re-plan, once done, has replaced the source or
        # blocked the order).
        follows = (
            f"order {order} waits for a substitute or for a source to come back; "
            f"/reweave {order} looks again"
            if blocked
            else f"/reweave {order} looks for another way (its buyer or a coordinator)"
        )
        lines.append(f"Can no longer be served now: {'; '.join(unserved)} — {follows}.")
    for stage in listing.stages[:STAGE_LINES]:
        state = stage.status
        if stage.ready and stage.status == "pending":
            state = "ready to start" if stage.agreed else "ready once its owner agrees"
        owner = stage.owner_name or stage.owner or "nobody yet"
        lines.append(
            f"{_MARK.get(stage.status, '·')} {stage.id} {stage.kind} {stage.quantity} × "
            f"{stage.item} — {owner}, {state}" + (" 📷 photo" if stage.photo else "")
        )
    if len(listing.stages) > STAGE_LINES:
        lines.append(f"… and {len(listing.stages) - STAGE_LINES} more (see the picture).")
    lines.append(f"/done {listing.order_id} STAGE when one of yours is done.")
    shown = (
        Picture(picture, f"order-{listing.order_id}-stages.png", f"Order {listing.order_id}")
        if picture
        else None
    )
    return reply("\n".join(lines), picture=shown)


def risk(found: OrderRisk, picture: bytes | None) -> Reply:
    order = found.order_id
    chance = percent(found.failure)
    if found.under_way:
        head = (
            f"Order {order}: {chance} chance something goes wrong in the {found.stages} "
            "stages left."
        )
    else:
        head = (
            f"Order {order}: plan {found.rank} has a {chance} chance something goes wrong in its "
            f"{found.stages} stages."
        )
    lines = [head]
    if found.late:
        late = len(found.late)
        lines.append(f"{late} stage{'s' if late != 1 else ''} late: {', '.join(found.late)}.")
    if found.riskiest:
        named = [
            f"{s.stage} {s.kind} {s.item} ({s.owner}) {percent(s.failure)}"
            for s in found.riskiest[:RISKIEST]
        ]
        lines.append("Riskiest: " + "; ".join(named) + ".")
    # Routes and single points in one breath, so "7 routes" never reads as "no weak spot".
    for route in found.routes:
        ways = f"{route.count} separate supply route{'s' if route.count != 1 else ''}"
        if len(route.cut) == 1:
            lines.append(
                f"{ways} to {route.item}, all through {route.cut[0]}: if it fails, every route "
                "fails."
            )
        elif route.cut:  # a smallest set whose loss, all together, cuts every route
            lines.append(
                f"{ways} to {route.item}; losing {' and '.join(route.cut)} together would cut "
                "every one."
            )
        else:
            lines.append(f"{ways} to {route.item}; no single failure cuts them all.")
    if found.single_points:
        lines.append(
            "Every plan needs (a single point of failure): " + "; ".join(found.single_points) + "."
        )
    else:
        lines.append("No single point of failure: everything it needs has an alternative.")
    near = found.locality
    if near is not None and near.mass_share is not None:
        lines.append(
            f"Local: {percent(near.mass_share)} of the weight made within {near.radius_km:g} km; "
            f"goods travel {near.distance_km:,.0f} km in all."
        )
    lines.append(
        f"/watch RESOURCE alerts you when one is disrupted; /stages {order} shows progress."
    )
    shown = Picture(picture, f"order-{order}-risk.png", f"Order {order}: risk") if picture else None
    return reply("\n".join(lines), picture=shown)


def intent_preview(text: str) -> Reply:
    return reply(
        f"{text}.\nIs that right? Press Cast it (or /cast) to send it out; or say it again "
        "differently.",
        [[("Cast it", "/cast"), ("Cancel", "/cancel")]],
    )


def intents(lines: list[IntentLine]) -> Reply:
    if not lines:
        return reply(
            "You have no offers, requests or proposals. /offer, /request or /propose casts one."
        )
    shown = [
        f"{line.id}. {line.text} — {line.status}"
        + (f", {line.matches} match{'es' if line.matches != 1 else ''}" if line.matches else "")
        for line in lines[-INTENT_LINES:]
    ]
    return reply(
        "\n".join(["Yours:", *shown, "/matches shows the matches; /withdraw N takes one back."])
    )


def matches(lines: list[MatchLine]) -> Reply:
    open_ = [line for line in lines if line.status == "open"]
    if not open_:
        return reply("No open matches yet — I'll tell you as soon as one turns up.")
    shown = [
        f"Match {line.id} (your {line.mine}): {line.text} — {line.covered:.0%} covered"
        for line in open_[-INTENT_LINES:]
    ]
    rows = [
        [
            (f"Accept {line.id}", _typed(Next(AcceptMatch, (line.id,))))
            for line in open_[-TASK_BUTTONS:]
        ]
    ]
    return reply("\n".join([*shown, "/accept MATCH takes one up."]), rows)


def history(shown: HistoryPage) -> Reply:
    """A page of what happened, newest page first; a button goes further back."""
    order_id = shown.order_id
    if not shown.lines:
        return reply(f"Nothing has happened to order {order_id} yet.")
    if shown.pages == 1:
        head = f"Order {order_id}, what happened (UTC):"
    else:
        newest = "the newest" if shown.page == 1 else "older"
        head = f"Order {order_id}, {newest} events, page {shown.page} of {shown.pages} (UTC):"
    lines, rows = [head, *shown.lines], []
    if shown.page < shown.pages:
        older = f"/history {order_id} {shown.page + 1}"
        lines.append(f"{older} goes further back; /history {order_id} DAY shows it as it was.")
        rows.append([("Older", older)])
    return reply("\n".join(lines), rows)


def history_at(order_id: int, when: str, state: OrderState, lines: list[str]) -> Reply:
    """The order as it was at `when` (rebuilt from its events), then its events until then."""
    if not lines:
        return reply(f"Order {order_id} was not placed yet at {when} UTC.")
    status = _STATE.get(state.status) or state.status.replace("_", " ")
    said = [f"Order {order_id} as it was at {when} UTC: {status}."]
    if state.contract is None:
        said.append("No plan chosen yet.")
    else:
        contract = _CONTRACT.get(state.contract_status, state.contract_status)
        said.append(f"Plan chosen, contract {contract}{_decisions(state)}.")
    if state.stages:
        count = {mark: sum(s == mark for s in state.stages.values()) for mark in _MARK}
        failed = f", {count['failed']} failed" if count["failed"] else ""
        said.append(f"Stages: {count['done']} of {len(state.stages)} done{failed}.")
    return reply("\n".join([*said, *_timeline("Until then, oldest first", lines)]))


_CONTRACT = {"potential": "waiting for agreement"}


def _decisions(state: OrderState) -> str:
    """Each party's word on the plan then: "; agreed: ana, bob; asked anew: fern"."""
    said = []
    for decision, word in (("agreed", "agreed"), ("declined", "declined"), ("asked", "asked anew")):
        who = sorted(p for p, d in state.agreements.items() if d == decision)
        if who:
            said.append(f"; {word}: {', '.join(who)}")
    return "".join(said)


def _timeline(head: str, lines: list[str]) -> list[str]:
    shown = lines[-HISTORY_LINES:]
    if len(lines) > len(shown):
        head += f" (the last {len(shown)} of {len(lines)} events)"
    return [head + ":", *shown]


def tasks(duties: Duties) -> Reply:
    if not duties.stages and not duties.to_agree:
        return reply("Nothing is waiting for you right now. I'll message you when something is.")
    lines: list[str] = []
    rows: list[list[tuple[str, str]]] = []
    for order_id in duties.to_agree:
        lines.append(f"Order {order_id} waits for your agreement: /agree {order_id}.")
        rows.append([(f"Agree to {order_id}", _typed(Next(Agree, (order_id,))))])
    ready = [s for s in duties.stages if s.ready]
    later = [s for s in duties.stages if not s.ready]
    if ready:
        lines.append("Ready to do now:")
        lines += [
            f"  order {s.order_id}: {s.stage} {s.kind} {s.quantity} × {s.item}" for s in ready
        ]
        buttons = [(f"Done {s.order_id}/{s.stage}", _typed(_done(s))) for s in ready]
        rows += [buttons[i : i + 3] for i in range(0, min(len(buttons), TASK_BUTTONS), 3)]
    if later:
        lines.append(
            f"Waiting on others first: {len(later)} more stage{'s' if len(later) > 1 else ''}"
        )
        lines += [
            f"  order {s.order_id}: {s.stage} {s.kind} {s.quantity} × {s.item}" for s in later[:10]
        ]
    return reply("\n".join(lines), rows)


# How each state of an order reads in /orders, in a word or two.
_STATE = {
    OrderStatus.WEAVING: "being planned",
    OrderStatus.OPEN: "choosing a plan",
    OrderStatus.UNPLANNABLE: "no plan",
    OrderStatus.NEGOTIATING: "agreeing",
    OrderStatus.IN_PROGRESS: "under way",
    OrderStatus.BLOCKED: "blocked",
    OrderStatus.FAILED: "planning failed",
    OrderStatus.COMPLETED: "completed",
    OrderStatus.CANCELLED: "cancelled",
}


def orders(listing: OrderList) -> Reply:
    """One short line per order, stuck ones first, with why each is where it is."""
    whose = "Every order" if listing.everyone else "Your orders"
    narrowed = f" ({listing.state})" if listing.state else ""
    if not listing.orders:
        if listing.state:
            return reply(f"No orders{narrowed} right now. /orders lists them all.")
        if listing.everyone:
            return reply("There are no orders yet.")
        return reply("You are part of no order yet. /catalog shows what can be ordered.")
    groups = [
        ("stuck", lambda s: s in STUCK),
        ("waiting", lambda s: s in WAITING),
        ("under way", lambda s: s == OrderStatus.IN_PROGRESS),
        ("completed", lambda s: s == OrderStatus.COMPLETED),
        ("cancelled", lambda s: s == OrderStatus.CANCELLED),
    ]
    counts = [
        f"{n} {label}"
        for label, member in groups
        if (n := sum(member(o.status) for o in listing.orders))
    ]
    lines = [f"{whose}{narrowed}: {', '.join(counts)}."]
    for order in listing.orders[:ORDER_LINES]:
        what = ", ".join(f"{quantity} × {_short(name, 40)}" for quantity, name in order.lines[:2])
        if len(order.lines) > 2:
            what += " …"
        buyer = "" if order.buyer == listing.reader else f" for {_short(order.buyer_name, 30)}"
        mark = "⚠ " if order.status in STUCK else ""
        lines.append(f"{mark}{order.order_id} · {what}{buyer} — {_state(order)}")
    hidden = len(listing.orders) - ORDER_LINES
    if hidden > 0:
        lines.append(f"… and {hidden} more: /orders STATE narrows the list ({SHOWN_WORDS}).")
    if listing.everyone and any(o.status in STUCK for o in listing.orders):
        lines.append("/reweave, /substitute, /hand or /cancel gets a stuck order moving.")
    else:
        lines.append("/stages ORDER or /history ORDER tells more about one.")
    return reply("\n".join(lines))


def _state(order) -> str:
    label = _STATE[order.status]
    reason = _short(order.reason.strip(), 90)
    if not reason or reason.casefold() == label:
        return label
    if reason.casefold().startswith(label) or reason == DESCRIBED[order.status]:
        return reason  # "cancelled by Dana: …", "waiting for the buyer to choose a plan"
    return f"{label}: {reason}"


def _short(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _typed(step: Next) -> str:
    """What a button sends for `step`, from the declarations."""
    # Here, not at the top: the declarations import this module.

    return command_text(step)


def _done(stage) -> Next:
    return Next(AssertStage, (stage.order_id, stage.stage), (("status", "done"),))
