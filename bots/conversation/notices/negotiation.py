"""The negotiation in words: a party's frame (short at first, whole with /terms) and what a
quoted price changed. A first frame fits a phone screen (FRAME_LIMIT): the reader's part, the
others with one contact each, the price, and the letters the reader must quote; the rest is one
press away (Details, /terms)."""

from __future__ import annotations

from bots.conversation.next_steps import buttons, command_text
from bots.conversation.outlook import outlook_text
from bots.conversation.plan_lines import day_text
from core.frames import Carriage, Frame, Party, Term, short_equation
from core.service.commands import Agree, Decline, QuotePrice, Say
from core.service.notices import Next, Rendered, View
from core.service.notices.negotiation import FrameSent, PriceRecorded, PriceSet

FRAME_LIMIT = 700  # characters of a first frame
OTHERS_SHOWN = 5  # parties listed in a first frame; the rest are in /terms
PARTS_SHOWN = 2  # a party's own parts in its first frame; /terms lists every one
OWN_TERMS_SHOWN = 3  # letters of the reader listed in a first frame
LEGEND_LINES = 40  # letters listed by /terms; beyond, the reader's own and a count
LABELS = {Agree: "Agree", Decline: "Decline", View.TERMS: "Details"}


def frame_sent(notice: FrameSent) -> Rendered:
    text = whole_frame(notice) if notice.whole else first_frame(notice)
    frame = notice.frame
    payload = {
        "equation": frame.equation,
        "values": {t.variable: t.value for t in frame.terms if t.value is not None},
    }
    return Rendered(text, notice.kind, _with_buttons(payload, notice.next))


def first_frame(notice: FrameSent) -> str:
    """What a party reads first: enough to agree or decline, within FRAME_LIMIT."""
    frame, reader = notice.frame, notice.reader
    others = [p for p in frame.parties if p.id != reader]
    shown = OTHERS_SHOWN if len(others) > OTHERS_SHOWN + 1 else len(others)
    while True:
        text = _first(notice, others[:shown], len(others) - shown)
        if len(text) <= FRAME_LIMIT or shown == 0:
            break
        shown -= 1
    if len(text) > FRAME_LIMIT:  # long names everywhere: the rest is in /terms all the same
        more = f"… (more: {_cmd(View.TERMS, frame.order_id)})"
        text = text[: FRAME_LIMIT - len(more) - 1].rsplit("\n", 1)[0] + "\n" + more
    return text


def _first(notice: FrameSent, others: list[Party], hidden: int) -> str:
    frame, reader, order = notice.frame, notice.reader, notice.frame.order_id
    lines = [f"Order {order}: {_lines(frame)}."]
    parts = _parts(frame, reader)
    # A truck may carry every leg of a plan: its parts alone would fill the frame and push out
    # the price and what to do now. The first few, then the rest in the whole frame.
    if len(parts) > PARTS_SHOWN + 1:
        more = len(parts) - PARTS_SHOWN
        parts = parts[:PARTS_SHOWN] + [f"… and {more} more parts: {_cmd(View.TERMS, order)}"]
    lines += parts
    if others or hidden:  # "With:" heads the list, also when every party is behind /terms
        lines.append("With:")
        lines += [f"• {_party(p, _one_contact(p, notice.platforms))}" for p in others]
    if hidden:
        lines.append(f"• … and {hidden} more: {_cmd(View.TERMS, order)}")
    lines.append(f"Price: {_price(frame)}")
    if (arrival := _arrival(frame)) is not None:
        lines.append(arrival)
    own = frame.terms_set_by(reader)
    if own:
        listed = ", ".join(
            f"{t.letter} = {t.shown_value} ({_priced(t)})" for t in own[:OWN_TERMS_SHOWN]
        )
        more = f" and {len(own) - OWN_TERMS_SHOWN} more" if len(own) > OWN_TERMS_SHOWN else ""
        open_ = [t for t in own if t.value is None]
        if open_:  # the price the plan waits for first
            quote = _cmd(QuotePrice, order, open_[0].letter, "PRICE")
            lines.append(f"You set {listed}{more}; {quote} gives the one not quoted yet.")
        else:
            quote = _cmd(QuotePrice, order, own[0].letter, "PRICE")
            lines.append(f"You set {listed}{more}; {quote} changes one.")
    outlook = outlook_text(frame.outlook)
    if outlook:
        lines.append(f"Outlook: {outlook}.")
    lines.append(_what_now(notice))
    return "\n".join(lines)


def whole_frame(notice: FrameSent) -> str:
    """/terms: every party with every contact, every letter with who sets it and its value."""
    frame, reader, order = notice.frame, notice.reader, notice.frame.order_id
    lines = [f"Order {order}: {_lines(frame)}."]
    lines += _parts(frame, reader)
    lines.append("Parties:")
    lines += [f"  • {_party(p, p.contacts)}" for p in frame.parties if p.id != reader]
    lines.append(f"Price: {frame.equation}")
    lines.append(f"       {frame.evaluated}")
    terms = list(frame.terms)
    if len(terms) > LEGEND_LINES:  # a large plan: the reader's own letters, and a count
        terms = [t for t in terms if t.setter == reader][:LEGEND_LINES]
    lines += [f"  {_legend(t, reader)}" for t in terms]
    if len(terms) < len(frame.terms):
        lines.append(f"  … and {len(frame.terms) - len(terms)} more prices in the plan")
    if frame.legs:
        lines.append("Moving the goods:")
        lines += [f"  • {_carriage(leg)}" for leg in frame.legs[:LEGEND_LINES]]
        if len(frame.legs) > LEGEND_LINES:
            lines.append(f"  … and {len(frame.legs) - LEGEND_LINES} more legs")
    if (arrival := _arrival(frame)) is not None:
        lines.append(arrival)
    outlook = outlook_text(frame.outlook)
    if outlook:
        lines.append(f"Outlook: {outlook}.")
    if frame.terms_set_by(reader):
        lines.append(f"{_cmd(QuotePrice, order, 'LETTER', 'PRICE')} sets one of your prices.")
    lines.append(_what_now(notice))
    return "\n".join(lines)


def price_set(notice: PriceSet) -> Rendered:
    term = notice.term
    text = (
        f"Order {notice.order_id}: {notice.setter_name} set {term.letter} ({term.item}) to "
        f"{term.shown_value} — the price is now {_total(notice.total, notice.unknowns)}."
    )
    if any(step.action is Agree for step in notice.next):
        text += " Agree or decline when you are ready."
    return Rendered(text, notice.kind, _with_buttons({}, notice.next))


def price_recorded(notice: PriceRecorded) -> Rendered:
    term = notice.term
    text = (
        f"Recorded: {term.letter} ({term.item}) is {term.shown_value} on order "
        f"{notice.order_id}; the price is now {_total(notice.total, notice.unknowns)}. "
        "Every party has been told."
    )
    return Rendered(text, notice.kind, _with_buttons({}, notice.next))


def _lines(frame: Frame) -> str:
    return ", ".join(f"{quantity} × {item}" for quantity, item in frame.lines)


def _parts(frame: Frame, reader: str) -> list[str]:
    lines = []
    if reader == frame.buyer:
        lines.append("You are the buyer: choosing this plan was your agreement.")
    by = f" by {frame.due:%Y-%m-%d}" if frame.due else ""
    for part in frame.parts_of(reader):
        if part.verb == "send on":
            lines.append(f"Your part: send on the {part.quantity} × {part.item} you hold{by}.")
        elif part.leg is not None:
            leg = part.leg
            lines.append(
                f"Your part: {part.verb} {part.quantity} × {part.item} from {leg.origin} to "
                f"{leg.destination}{_vehicle(leg)}{by}: {_how_far(leg)}, {leg.shown_price}."
            )
        else:
            lines.append(f"Your part: {part.verb} {part.quantity} × {part.item}{by}.")
    return lines


def _arrival(frame: Frame) -> str | None:
    """ "Arrives by Tue 9 Dec at the earliest." — the plan's critical path from the order."""
    if frame.arrival is None:
        return None
    earliest = " at the earliest" if frame.arrival.unknown else ""
    day = frame.arrives_on
    if day is None:
        days = max(1, -int(-frame.arrival.days // 1))  # whole days, rounded up
        return f"Arrives within {days} day{'s' if days != 1 else ''} of the order{earliest}."
    return f"Arrives by {day_text(day)}{earliest}."


def _carriage(leg: Carriage) -> str:
    """ "2 × Chair, Ana's Woodshop → Dana: carried by Carol (Van 3), 12 km in 1 trip, 14.40" """
    if leg.kind == "arranged":  # a place nobody gave: nothing to price or to check
        return (
            f"{leg.quantity} × {leg.item}, {leg.origin} → {leg.destination}: sent as "
            f"{leg.carrier_name or 'the sender'} and the receiver arrange (a place not given)"
        )
    who = {"vehicle": "carried by", "delivery": "delivered by"}.get(leg.kind, "picked up by")
    return (
        f"{leg.quantity} × {leg.item}, {leg.origin} → {leg.destination}: "
        f"{who} {leg.carrier_name or 'nobody yet'}{_vehicle(leg, ' (', ')')}, "
        f"{_how_far(leg)}, {leg.shown_price}"
    )


def _vehicle(leg: Carriage, before: str = " in ", after: str = "") -> str:
    return f"{before}{leg.vehicle}{after}" if leg.vehicle else ""


def _how_far(leg: Carriage) -> str:
    far = f"{leg.km:,.0f} km" if leg.km is not None else "distance unknown"
    return f"{far} in {leg.trips} trip{'s' if leg.trips != 1 else ''}"


def _party(party: Party, contacts) -> str:
    reach = ", ".join(f"{medium} {address}" for medium, address in contacts)
    return f"{party.name} ({', '.join(party.roles)})" + (f" — {reach}" if reach else "")


def _one_contact(party: Party, platforms: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    found = party.contact_for(platforms)
    return (found,) if found else ()


def _price(frame: Frame) -> str:
    unknown = tuple(t.letter for t in frame.unknowns)
    return f"{short_equation(frame.equation, 100)} = {_total(frame.total, unknown)}"


def _total(total: str, unknowns: tuple[str, ...]) -> str:
    if not unknowns:
        return total
    return f"{total} (not quoted yet: {', '.join(unknowns[:6])}{' …' if len(unknowns) > 6 else ''})"


def _legend(term: Term, reader: str) -> str:
    at = f" at {term.place}" if term.place else ""
    if term.kind == "labour":
        what = f"labour per batch of {term.item}{at}"
    elif term.kind == "price":
        what = f"one {term.item}"
    else:  # a leg's price
        what = _priced(term)
    who = term.setter_name or "nobody yet"
    # The reader's own offers and facilities by id: what they would type in /disrupt.
    mine = f" [{term.source}]" if term.setter == reader else ""
    return f"{term.letter} = {what}, set by {who}{mine}: {term.shown_value}"


def _priced(term: Term) -> str:
    """What a letter prices, in short: the item, or moving it (a leg's price, "transport")."""
    return f"moving {term.item}" if term.kind == "transport" else term.item


def _what_now(notice: FrameSent) -> str:
    order = notice.frame.order_id
    if notice.awaited and not notice.agreed:
        return f"Agree to take your part, or decline if you cannot; {_cmd(Say, order)} … to talk."
    if notice.awaited:
        return f"Waiting for {_names(notice.awaited)} to agree; {_cmd(Say, order)} … to talk."
    return f"Everyone has agreed. {_cmd(View.STAGES, order)} shows how it goes."


def _names(names: tuple[str, ...]) -> str:
    if len(names) <= 4:
        return ", ".join(names)
    return f"{', '.join(names[:3])} and {len(names) - 3} more"


def _cmd(action, *args) -> str:
    return command_text(Next(action, args))


def _with_buttons(payload: dict, steps: tuple[Next, ...]) -> dict:
    if steps:
        payload["buttons"] = buttons(*((LABELS[s.action], s) for s in steps))
    return payload


RENDERERS = {FrameSent: frame_sent, PriceSet: price_set, PriceRecorded: price_recorded}
