"""The characteristic pricing equation of a plan (the paper's `P = K + 4·L + B + S`).

Built by substitution up the plan tree: a bought node contributes quantity × its offer's price
variable; a made node contributes batches × its labour constant K plus its inputs' equations.
Then each leg that costs something, or might (its price unknown), adds its own variable once:
what moving that node's goods costs, set by whoever moves them (`t[carol-van:0.1]`, named by
the vehicle or carrier and the node's position; letter T). A leg known to cost nothing — a free
delivery, a receiver fetching its own goods — adds no term.
Each variable is valued when known (the listed price, the declared labour, the leg's price from
its mover's rates, or a quote received) and stays a symbol otherwise, so the equation is honest
about what nobody has said yet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from core.network.model import Network
from core.pricing.linear_form import Coefficient, LinearForm
from core.weave.legs import DELIVERY, PICKUP, VEHICLE, Leg
from core.weave.plan import Plan, PlanNode
from core.weave.plan_document import sender_terms
from core.weave.sources import Bought, Source

RESERVED = frozenset("KP")  # K is labour, P the total
TRANSPORT_LETTERS = "TUVWXYZHJMNQR"  # T for transport, when no item has taken it


@dataclass(frozen=True)
class PriceVariable:
    """One price in an equation, and who sets it."""

    name: str  # p[offer-id], K[design-id@facility-id] or t[mover:position]
    # "price" (per unit, from an offer), "labour" (per batch, at a facility) or "transport"
    # (the whole of one leg: every trip of it)
    kind: str
    item: str
    setter: str | None  # the participant who sets it
    source: str  # the offer id, design@facility, or the leg's id (vehicle:carol-van)
    known: float | None  # listed price, declared labour, or the leg's price by its rates
    # Labour's place, kept apart: design and facility ids may hold "@" themselves (a design's
    # version, `okh:github.com/o/r@1.0.1`), so `source` cannot be split to find it.
    facility: str | None = None
    # A transport variable's leg, how many units it moves, and its mover's rates (per trip,
    # per km; None: not stated): what its description says.
    leg: Leg | None = None
    quantity: int = 0
    rates: tuple[float | None, float | None] = (None, None)

    def describe(self, network: Network) -> str:
        item = network.items[self.item].name if self.item in network.items else self.item
        unit = network.items[self.item].unit if self.item in network.items else "each"
        who = _name(network, self.setter)
        if self.kind == "transport":
            return f"{self._carriage(network, item)}, set by {who} ({self.name})"
        if self.kind == "price":
            # Per gram of PLA, not per "one PLA": a price is per unit of what is counted.
            one = f"one {item}" if unit in ("each", "") else f"one {unit} of {item}"
            return f"price of {one}, set by {who} ({self.name})"
        place = network.facilities.get(self.facility) if self.facility else None
        at = (place.name if place is not None else None) or self.facility
        return f"labour per batch of {item} at {at}, set by {who} ({self.name})"

    def _carriage(self, network: Network, item: str) -> str:
        """`Carol's van (Carol Jones) carries 8 × Chair leg 12.4 km in 1 trip (5.00 + 1.20 per
        km)`: who moves what how far, and by which rates."""
        leg = self.leg
        mover = _name(network, leg.carrier)
        far = "an unknown distance" if leg.km is None else f"{leg.km:,.1f} km"
        what = f"{self.quantity} × {item}"
        rate = _rate(*self.rates)
        if leg.kind == VEHICLE:
            vehicle = leg.transport.name or leg.transport.id
            trips = "1 trip" if leg.trips == 1 else f"{leg.trips} trips"
            unknown = ", mass unknown, priced per trip" if leg.kg is None else ""
            each = " each" if leg.trips > 1 and rate != NO_RATE else ""
            return f"{vehicle} ({mover}) carries {what} {far} in {trips}{unknown} ({rate}{each})"
        if leg.kind == PICKUP:
            return f"{mover} picks up {what} {far} ({rate})"
        if leg.kind == DELIVERY:
            return f"{mover} delivers {what} {far} ({rate})"
        return f"{mover} sends {what} {far}, as the parties arrange"


def offer_variable(offer) -> PriceVariable:
    return PriceVariable(
        f"p[{offer.id}]", "price", offer.item, offer.supplier, offer.id, offer.price
    )


def labour_variable(design, facility) -> PriceVariable:
    source = f"{design.id}@{facility.id}"
    return PriceVariable(
        f"K[{source}]",
        "labour",
        design.makes,
        facility.operator,
        source,
        design.labor,
        facility=facility.id,
    )


@dataclass(frozen=True)
class Equation:
    """A plan's price: the form, its variables with their letters, and the values known."""

    form: LinearForm
    variables: Mapping[str, PriceVariable]
    values: Mapping[str, float]
    letters: Mapping[str, str]
    quantity: int

    @property
    def unknowns(self) -> list[str]:
        return self.form.unknowns(self.values)

    @property
    def price(self) -> float | None:
        return self.form.evaluate(self.values)

    @property
    def unit_price(self) -> float | None:
        price = self.price
        return None if price is None else price / self.quantity

    def text(self, lhs: str = "P") -> str:
        """`P = K + 4·L + B + S`, labour first, then inputs in the order of the plan."""
        return f"{lhs} = " + _render(
            [(self.form.terms[n], self.letters[n]) for n in self.form.terms]
        )

    def evaluated_text(self, lhs: str = "P") -> str:
        """`P = 15 + 4·2.5 + B + 8 = 33 + B`: the known values put in, the rest left as letters."""
        parts = []
        for name, coefficient in self.form.terms.items():
            value = self.values.get(name)
            parts.append((coefficient, self.letters[name] if value is None else _number(value)))
        rest = self.form.partially(self.values)
        total = _render(
            [(c, self.letters[n]) for n, c in rest.terms.items()],
            constant=float(rest.constant),
        )
        return f"{lhs} = {_render(parts)} = {total}"

    def legend(self, network: Network) -> list[str]:
        lines = []
        for name in self.form.terms:
            value = self.values.get(name)
            shown = "unknown, not quoted yet" if value is None else money(value)
            lines.append(
                f"{self.letters[name]} = {self.variables[name].describe(network)} = {shown}"
            )
        return lines

    def find(self, typed: str) -> PriceVariable | None:
        """The variable a person means: its id (`p[pc-visors]`) or its letter in any case
        (`s2` is S2), as people type on a phone."""
        if typed in self.variables:
            return self.variables[typed]
        wanted = typed.strip().upper()
        return next(
            (self.variables[n] for n, letter in self.letters.items() if letter.upper() == wanted),
            None,
        )


def remaining_text(equation: Equation) -> str:
    """What P comes to so far: `30.10` when every value is known, else `33.00 + B`."""
    rest = equation.form.partially(equation.values)
    if not rest.terms:
        return money(float(rest.constant))
    terms = _render([(c, equation.letters[n]) for n, c in rest.terms.items()])
    return f"{money(float(rest.constant))} + {terms}" if rest.constant else terms


def plan_equation(
    network: Network, plan: Plan | PlanNode, quotes: Mapping[str, float] | None = None
) -> Equation:
    """The equation of a plan (all its order lines) or of one sub-tree."""
    roots = plan.lines if isinstance(plan, Plan) else (plan,)
    form = LinearForm()
    variables: dict[str, PriceVariable] = {}
    for root in roots:
        form = form + _form(root, variables)
    # The legs after the goods, in the order of the plan: `P = K + 4·L + B + T + T2`.
    positioned = plan.positioned() if isinstance(plan, Plan) else _positioned(plan, "0")
    for path, node in positioned:
        variable = _leg_variable(network, node, path)
        if variable is not None:
            variables[variable.name] = variable
            form = form + LinearForm.variable(variable.name)
    values = {n: v.known for n, v in variables.items() if v.known is not None}
    values.update({n: float(q) for n, q in (quotes or {}).items() if n in variables})
    quantity = roots[0].quantity if len(roots) == 1 else 1
    return Equation(form, variables, values, _letters(network, form, variables), quantity)


def _form(node: PlanNode, variables: dict[str, PriceVariable]) -> LinearForm:
    source = node.source
    if isinstance(source, Bought):
        variable = offer_variable(source.offer)
        variables[variable.name] = variable
        return LinearForm.variable(variable.name, node.quantity)
    variable = labour_variable(source.design, source.facility)
    variables[variable.name] = variable
    form = LinearForm.variable(variable.name, node.batches)
    for child in node.inputs:
        form = form + _form(child, variables)
    return form


def _leg_variable(network: Network, node: PlanNode, path: str) -> PriceVariable | None:
    """The price of moving the node's goods, unless it is known to be nothing."""
    leg = node.leg
    if leg is None or leg.price == 0:
        return None
    mover = leg.id.partition(":")[2] or leg.id  # the vehicle, or the participant moving it
    return PriceVariable(
        f"t[{mover}:{path}]",
        "transport",
        node.item,
        leg.carrier,
        leg.id,
        leg.price,
        leg=leg,
        quantity=node.quantity,
        rates=_rates(network, node.source, leg),
    )


def _rates(network: Network, source: Source, leg: Leg) -> tuple[float | None, float | None]:
    """(per trip, per km) the leg's mover states."""
    if leg.kind == VEHICLE:
        return leg.transport.base_price, leg.transport.price_per_km
    if leg.kind == DELIVERY:
        terms = sender_terms(source)[0]
    elif leg.kind != PICKUP:  # arranged between the parties: no rates to read
        terms = None
    else:
        receiver = network.participants.get(leg.carrier) if leg.carrier else None
        terms = receiver.pickup if receiver is not None else None
    return (None, None) if terms is None else (terms.price, terms.price_per_km)


NO_RATE = "no rate given"


def _rate(per_trip: float | None, per_km: float | None) -> str:
    said = [money(per_trip)] if per_trip else []
    said += [f"{money(per_km)} per km"] if per_km else []
    return " + ".join(said) or NO_RATE


def _positioned(node: PlanNode, path: str):
    yield path, node
    for position, child in enumerate(node.inputs):
        yield from _positioned(child, f"{path}.{position}")


def _letters(network: Network, form: LinearForm, variables) -> dict[str, str]:
    """K for labour, the item's initial for a price, T for transport (unless an item took it:
    then the next letter no item took); repeats get 2, 3 … (L, L2). Letters a person can type
    on a phone, and never P, which is the total."""
    goods = {
        "K" if v.kind == "labour" else _initial(network, v.item)
        for n, v in variables.items()
        if n in form.terms and v.kind != "transport"
    }
    moving = next((c for c in TRANSPORT_LETTERS if c not in goods), "X")
    used: dict[str, int] = {}
    letters = {}
    for name in form.terms:
        variable = variables[name]
        if variable.kind == "labour":
            base = "K"
        elif variable.kind == "transport":
            base = moving
        else:
            base = _initial(network, variable.item)
        used[base] = used.get(base, 0) + 1
        letters[name] = base if used[base] == 1 else f"{base}{used[base]}"
    return letters


def _initial(network: Network, item_id: str) -> str:
    """The initial of the item's id when it is a word (leg → L), else of its name. K is labour
    and P the price itself, so an item whose words start so takes the first of its words that
    does not (pp-sheet → S), else its first other letter, else X."""
    item = network.items.get(item_id)
    words = item_id if item_id[:1].isalpha() and not any(c in item_id for c in ":/") else None
    words = words or (item.name if item else item_id)
    parts = [w for w in re.split(r"[^A-Za-z]+", words) if w]
    for part in parts:
        if part[0].upper() not in RESERVED:
            return part[0].upper()
    return next((ch.upper() for ch in words if ch.isalpha() and ch.upper() not in RESERVED), "X")


def _render(terms: list[tuple[Coefficient, str]], constant: float = 0.0) -> str:
    pieces = []
    if constant or not terms:
        pieces.append(_number(constant))
    for coefficient, symbol in terms:
        sign = "-" if coefficient < 0 else "+"
        size = abs(coefficient)
        body = symbol if size == 1 else f"{_number(size)}·{symbol}"
        pieces.append(body if not pieces and sign == "+" else f"{sign} {body}")
    return " ".join(pieces).replace("+ -", "- ")


def _number(value: float | Fraction | int) -> str:
    if isinstance(value, Fraction) and value.denominator != 1:
        return str(value)
    number = float(value)
    if number == int(number):
        return str(int(number))
    # Six places, not two: a screw at 0.004 must not show as 0 (nor the sum disagree with it).
    return f"{number:.6f}".rstrip("0").rstrip(".")


def money(value: float) -> str:
    """`2.50`, `1,234.00`; a price below the cent keeps its digits (`0.004`), never `0.00`."""
    if abs(round(value, 2) - value) < 1e-9:
        return f"{value:,.2f}"
    return f"{value:,.6f}".rstrip("0")


def _name(network: Network, participant_id: str | None) -> str:
    if participant_id is None:
        return "nobody yet"
    participant = network.participants.get(participant_id)
    return participant.name if participant else participant_id
