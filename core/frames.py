"""The negotiation frame: what each party of a plan needs to act on it, as data.

The order, each party's part, every party with its roles and contacts, the characteristic
equation with its terms (what each letter prices, who sets it, its value so far), how the goods
move between places (the plan's legs: who carries what how far, for what), when the order can
arrive, and the plan's outlook. One frame serves every reader: the chat layer shows each reader
their own part and the others, and words it (bots/conversation/notices/negotiation.py). Pure:
from the network, the plan and its equation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.network.model import Network
from core.pricing.equation import Equation, money, remaining_text
from core.weave.legs import ARRANGED, DELIVERY, VEHICLE, Leg, Stop
from core.weave.plan import Plan
from core.weave.sources import Bought, is_held
from core.weave.timing import Arrival, plan_arrival

# What a leg's mover does, as a part of the order.
# An arranged leg (a place nobody gave) is the sender's to send, as its `ship` stage says.
LEG_VERBS = {VEHICLE: "carry", DELIVERY: "deliver", ARRANGED: "send"}
PICK_UP = "pick up"


@dataclass(frozen=True)
class Party:
    """Someone the order needs: the buyer or a party of the plan."""

    id: str
    name: str
    roles: tuple[str, ...]
    contacts: tuple[tuple[str, str], ...]  # (platform or medium, address), as the network lists

    def contact_for(self, platforms: tuple[str, ...]) -> tuple[str, str] | None:
        """The one contact a reader on `platforms` (in their preference) can use at once: on
        their own platform when the party is there, else the party's first."""
        listed = dict(self.contacts)
        for platform in platforms:
            if platform in listed:
                return platform, listed[platform]
        return self.contacts[0] if self.contacts else None


@dataclass(frozen=True)
class Carriage:
    """One leg of the plan: `quantity` of the item moved from `origin` to `destination` (names
    of the places: a facility's, else its party's) by `carrier` — in its vehicle, as the
    supplier's own delivery, or fetched by the receiver (`kind`, core.weave.legs)."""

    kind: str  # "vehicle", "delivery" or "pickup"
    item: str  # the item's name
    quantity: int
    carrier: str | None
    carrier_name: str
    vehicle: str | None  # the vehicle's name (its id when it has none), for a vehicle leg
    origin: str
    destination: str
    km: float | None  # None: a place nobody gave
    trips: int
    price: float | None  # None: nobody has said (a vehicle with no rate, an unknown distance)

    @property
    def shown_price(self) -> str:
        # To the cent: a rate per km times a distance has digits nobody pays.
        return "unknown" if self.price is None else f"{self.price:,.2f}"


@dataclass(frozen=True)
class Part:
    """One thing a party does for the order: make it, supply it, send on what it holds, or
    move it (carry it in a vehicle, deliver what it supplies, pick up what is sent to it)."""

    party: str
    verb: str  # "make", "supply", "send on", "carry", "deliver" or "pick up"
    quantity: int
    item: str  # the item's name
    leg: Carriage | None = None  # for a part that moves goods


@dataclass(frozen=True)
class Term:
    """One letter of the equation: what it prices, who sets it, what it is worth so far."""

    letter: str
    variable: str  # p[offer] or K[design@facility]: what /quote also accepts
    kind: str  # "price" (per unit) or "labour" (per batch)
    item: str  # the item's name
    setter: str | None
    setter_name: str
    source: str  # the offer's id, or the facility's (where a person would /disrupt it)
    place: str  # where the labour is done (the facility's name); "" for a price or no name
    value: float | None  # None: nobody has said yet

    @property
    def shown_value(self) -> str:
        return "not quoted yet" if self.value is None else money(self.value)


@dataclass(frozen=True)
class Frame:
    order_id: int
    lines: tuple[tuple[int, str], ...]  # (quantity, item name) of each order line
    buyer: str
    due: date | None
    parties: tuple[Party, ...]  # the buyer first
    parts: tuple[Part, ...]
    equation: str  # P = K + 10·V + …
    evaluated: str  # P = 5 + 10·0.45 + … = 30.1
    total: str  # what P comes to so far: "30.10", or "33.00 + B"
    price: float | None  # None while a letter is unknown
    terms: tuple[Term, ...]
    outlook: dict | None  # core.service.risk.plan_outlook's figures
    legs: tuple[Carriage, ...] = ()
    arrival: Arrival | None = None  # minutes from the order along the plan's critical path
    ordered: datetime | None = None  # when the order was placed: what `arrival` counts from

    @property
    def arrives_on(self) -> date | None:
        """The day the order can arrive (at the earliest when `arrival.unknown`), None when
        the frame does not know when it was placed."""
        if self.arrival is None or self.ordered is None:
            return None
        return (self.ordered + timedelta(minutes=self.arrival.minutes)).date()

    def party(self, who: str) -> Party | None:
        return next((p for p in self.parties if p.id == who), None)

    def parts_of(self, who: str) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p.party == who)

    def terms_set_by(self, who: str) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.setter == who)

    @property
    def unknowns(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.value is None)

    def term(self, variable: str) -> Term | None:
        return next((t for t in self.terms if t.variable == variable), None)


def negotiation_frame(
    network: Network,
    order_id: int,
    buyer: str,
    plan: Plan,
    equation: Equation,
    roles: dict[str, set[str]],
    due: date | None = None,
    outlook: dict | None = None,
    ordered: datetime | None = None,
) -> Frame:
    """The frame of a plan. `roles`: each party of the plan and the roles it plays there;
    `ordered`: when the order was placed, from which the plan's arrival is a day."""
    parties = [_party(network, buyer, {"buyer"})]
    parties += [_party(network, who, played) for who, played in roles.items() if who != buyer]
    roots = {id(line) for line in plan.lines}
    moved = [
        (node, _carriage(network, node, buyer if id(node) in roots else None))
        for node in plan.nodes()
        if node.leg is not None
    ]
    parts = [_part(network, node) for node in plan.nodes() if _provider(node)]
    parts += [
        Part(leg.carrier, _leg_verb(leg), leg.quantity, leg.item, leg)
        for _, leg in moved
        if leg.carrier
    ]
    return Frame(
        order_id=order_id,
        lines=tuple((node.quantity, network.item_name(node.item)) for node in plan.lines),
        buyer=buyer,
        due=due,
        parties=tuple(parties),
        parts=tuple(parts),
        equation=equation.text(),
        evaluated=equation.evaluated_text(),
        total=remaining_text(equation),
        price=equation.price,
        terms=tuple(_term(network, equation, name) for name in equation.form.terms),
        outlook=outlook,
        legs=tuple(leg for _, leg in moved),
        arrival=plan_arrival(plan),
        ordered=ordered,
    )


def short_equation(text: str, limit: int = 120) -> str:
    """`P = K + 4·L + … (212 terms)` when the whole would not fit in a chat line."""
    if len(text) <= limit:
        return text
    terms = text.count(" + ") + text.count(" - ") + 1
    cut = text.rfind(" + ", 0, limit - 20)
    return f"{text[: cut if cut > 0 else limit - 20]} + … ({terms} terms)"


def _party(network: Network, who: str, played: set[str]) -> Party:
    participant = network.participants.get(who)
    contacts = tuple(participant.contacts.items()) if participant else ()
    return Party(who, network.participant_name(who), tuple(sorted(played)), contacts)


def _part(network: Network, node) -> Part:
    if is_held(node.source):
        verb = "send on"
    else:
        verb = "supply" if isinstance(node.source, Bought) else "make"
    return Part(_provider(node), verb, node.quantity, network.item_name(node.item))


def _term(network: Network, equation: Equation, name: str) -> Term:
    variable = equation.variables[name]
    place = ""
    source = variable.source
    if variable.kind == "labour":
        source = variable.facility or ""
        facility = network.facilities.get(source)
        place = (facility.name if facility is not None else None) or ""
    return Term(
        letter=equation.letters[name],
        variable=name,
        kind=variable.kind,
        item=network.item_name(variable.item),
        setter=variable.setter,
        setter_name=network.participant_name(variable.setter) if variable.setter else "",
        source=source,
        place=place,
        value=equation.values.get(name),
    )


def _carriage(network: Network, node, buyer: str | None) -> Carriage:
    """`buyer`: where a line's root goes (a plan rebuilt from the store may not say)."""
    leg: Leg = node.leg
    vehicle = None
    if leg.kind == VEHICLE and leg.transport is not None:
        vehicle = leg.transport.name or leg.transport.id
    return Carriage(
        kind=leg.kind,
        item=network.item_name(node.item),
        quantity=node.quantity,
        carrier=leg.carrier,
        carrier_name=network.participant_name(leg.carrier) if leg.carrier else "",
        vehicle=vehicle,
        origin=_place(network, leg.origin),
        destination=_place(network, leg.destination, buyer),
        km=leg.km,
        trips=leg.trips,
        price=leg.price,
    )


def _leg_verb(leg: Carriage) -> str:
    return LEG_VERBS.get(leg.kind, PICK_UP)


def _place(network: Network, stop: Stop, party: str | None = None) -> str:
    """A leg's end as people name it: the facility, else the party there (`party` when the
    stop does not say), else its place."""
    facility = network.facilities.get(stop.facility) if stop.facility else None
    if facility is not None and facility.name:
        return facility.name
    if stop.participant or party:
        return network.participant_name(stop.participant or party)
    if stop.location is not None and stop.location.place:
        return stop.location.place
    return "somewhere not given"


def _provider(node) -> str | None:
    source = node.source
    return source.offer.supplier if isinstance(source, Bought) else source.facility.operator
