"""Time to survive (TTS) and time to recover (TTR) of every node of a supply network.

After Simchi-Levi, Schmidt, Wei, Zhang, Combs, Ge, Gusikhin, Sanders and Zhang, "Identifying
Risks and Mitigating Disruptions in the Automotive Supply Chain", Interfaces 45(5), 2015. A node
is lost for its TTR (how long it takes to come back, or to qualify a replacement); meanwhile the
network reallocates what is left — stock, other offers of the same item, other facilities able to
run a design, other designs — to keep meeting demand. TTS is how long it can; a node whose TTS is
shorter than its TTR is *exposed*, and the demand lost while it is down measures how much.

Nodes. Offers (a supplier selling an item) and facilities (where designs are run); on request,
participants too — losing a participant loses every offer and facility it runs. Stock is held at
a node (a facility, an offer, a participant) and is lost with it: a flooded shop's shelves are
gone too. Every other node keeps its stock and its declared capacity. A period is a day, so an
offer's `lead_time_days` can serve as its TTR; capacities and demand rates are per period.

The linear program, for a lost node n. Variables, all ≥ 0, each a quantity over the disruption:

    b_o    units bought through offer o
    m_df   batches of design d run at facility f (f offers all of d's processes, as in the weave;
           batches are continuous: the LP relaxes ⌈q / yield⌉)
    v_hi   units of item i taken from the stock s_hi held at h
    l_p    units of product p's demand lost (lost-demand LP only)
    t      the length of the disruption

The net output of item i is

    out_i = Σ_(o sells i) b_o + Σ_h v_hi + Σ_(d makes i, f) yield_d·m_df − Σ_(d, f) n_di·m_df

with n_di the units of i a batch of d uses. Constraints:

    out_i + l_i ≥ d_i·t                       every item i (d_i, l_i = 0 unless i is a product)
    b_o ≤ c_o·t                               every offer with a declared capacity c_o
    Σ_(d makes i) yield_d·m_df ≤ c_fi·t       every facility f and item i in its `capacity`
    v_hi ≤ s_hi                               every stock
    b_o = 0, m_df = 0, v_hi = 0               for the offers, facilities and stock n takes down

A capacity left undeclared is unlimited: the network says nothing that would bound it.
Substitutes are not sources until a buyer approves them, so they are left out.

    TTS_n = max t    (l = 0)
    lost demand_n = min Σ_p f_p·l_p   with t = TTR_n fixed and 0 ≤ l_p ≤ d_p·TTR_n

f_p is product p's margin (the weight of a lost unit, 1 unless given). Setting t = 0 and every
flow to 0 is feasible, so neither LP is ever infeasible. TTS is infinite exactly when the
steady-state LP (t = 1, no stock) is feasible — the remaining capacity alone keeps up with
demand — which is checked first rather than trusting a solver's "unbounded"; a steady state
found once also settles every node whose flows it leaves idle, without an LP. Feasibility is
monotone in t (scale every flow down), so TTS < TTR exactly when demand is lost.

If the intact network cannot keep up with demand either (`time_to_survive()` finite), every node
looks exposed, whether or not its loss changes anything: check the intact network first.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from types import MappingProxyType

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from core.network.model import Network, frozen_mapping
from core.weave.sources import Made, SupplyIndex

KINDS = ("offer", "facility", "participant")
# When neither the parameters nor an offer's lead time say how long a node takes to recover.
DEFAULT_TIME_TO_RECOVER = 7.0
# Slack for the solver's tolerances when comparing TTS with TTR or reading a loss as none.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class SurvivalParameters:
    """What the network itself does not say: demand rates, stock, recovery times, margins.

    `inventory` maps (holder id, item id) to units on hand, the holder an offer, facility or
    participant; `time_to_recover` maps a node id to periods, overriding an offer's lead time.
    """

    demand: Mapping[str, float]
    inventory: Mapping[tuple[str, str], float] = field(default_factory=frozen_mapping)
    time_to_recover: Mapping[str, float] = field(default_factory=frozen_mapping)
    margin: Mapping[str, float] = field(default_factory=frozen_mapping)
    default_time_to_recover: float = DEFAULT_TIME_TO_RECOVER

    def __post_init__(self):
        if not self.demand:
            raise ValueError("no demand: give a rate per period for at least one product")
        for key in self.inventory:
            if not (isinstance(key, tuple) and len(key) == 2):
                raise ValueError(f"inventory is keyed by (holder, item), not {key!r}")
        for name in ("demand", "inventory", "time_to_recover", "margin"):
            values = getattr(self, name)
            for key, value in values.items():
                _check_amount(f"{name} of {_show(key)}", value)
            object.__setattr__(self, name, MappingProxyType(dict(values)))
        _check_amount("default_time_to_recover", self.default_time_to_recover)


@dataclass(frozen=True)
class NodeExposure:
    """One node's TTS against its TTR, in periods, and the weighted demand lost meanwhile."""

    node: str
    kind: str
    name: str
    tts: float
    ttr: float
    lost_demand: float
    exposed: bool

    @property
    def shortfall(self) -> float:
        """TTR − TTS: how long demand goes unmet (negative: how much time to spare)."""
        return self.ttr - self.tts


class SurvivalModel:
    """The LPs of one network and one set of parameters, built once and solved per node."""

    def __init__(self, network: Network, parameters: SurvivalParameters):
        self.network = network
        self.parameters = parameters
        self._kinds = _kinds_by_id(network)
        _check_capacities(network)
        for item_id in (*parameters.demand, *parameters.margin):
            if item_id not in network.items:
                raise ValueError(f"unknown product {item_id!r}")
        stock: dict[tuple[tuple[str, str], str], float] = {}
        for (holder, item_id), units in parameters.inventory.items():
            if item_id not in network.items:
                raise ValueError(f"unknown item {item_id!r} in the inventory of {holder!r}")
            if units > 0:
                stock[(self._resolve(holder), item_id)] = units
        for node in parameters.time_to_recover:
            self._resolve(node)
        self._build(stock)

    # -- the LP ------------------------------------------------------------------------------

    def _build(self, stock: Mapping[tuple[tuple[str, str], str], float]) -> None:
        network, demand = self.network, self.parameters.demand
        index = SupplyIndex(network)
        items = _item_rows(network)
        offers = list(network.offers.values())
        runs = [
            (s.design, s.facility)
            for item_id in network.items
            for s in index.sources(item_id)
            if isinstance(s, Made)
        ]
        products = [p for p, rate in demand.items() if rate > 0]
        self._offer_columns = {o.id: k for k, o in enumerate(offers)}
        first_run = len(offers)
        first_stock = first_run + len(runs)
        first_loss = first_stock + len(stock)
        self._t = first_loss + len(products)
        self._loss_columns = slice(first_loss, self._t)
        self._products = products

        rows, columns, values = [], [], []

        def put(row: int, column: int, value: float) -> None:
            rows.append(row)
            columns.append(column)
            values.append(value)

        # Item rows read d_i·t − out_i − l_i ≤ 0.
        for column, offer in enumerate(offers):
            put(items[offer.item], column, -1.0)
        self._run_columns: dict[str, list[int]] = defaultdict(list)
        capacity_rows: dict[tuple[str, str], int] = {}
        next_row = len(items)
        for k, (design, facility) in enumerate(runs):
            column = first_run + k
            self._run_columns[facility.id].append(column)
            put(items[design.makes], column, -float(design.yield_))
            for input_id, units in design.inputs:
                put(items[input_id], column, float(units))
            if design.makes in facility.capacity:
                key = (facility.id, design.makes)
                if key not in capacity_rows:
                    capacity_rows[key] = next_row
                    put(next_row, self._t, -float(facility.capacity[design.makes]))
                    next_row += 1
                put(capacity_rows[key], column, float(design.yield_))
        self._stock_columns: dict[tuple[str, str], list[int]] = defaultdict(list)
        stock_bounds = []
        for k, ((holder, item_id), units) in enumerate(stock.items()):
            self._stock_columns[holder].append(first_stock + k)
            put(items[item_id], first_stock + k, -1.0)
            stock_bounds.append(units)
        for k, product in enumerate(products):
            put(items[product], first_loss + k, -1.0)
            put(items[product], self._t, float(demand[product]))
        for column, offer in enumerate(offers):
            if offer.capacity is not None:
                put(next_row, column, 1.0)
                put(next_row, self._t, -float(offer.capacity))
                next_row += 1

        self._matrix = csr_matrix((values, (rows, columns)), shape=(next_row, self._t + 1))
        self._upper = np.full(self._t + 1, np.inf)
        self._upper[first_stock:first_loss] = stock_bounds
        self._upper[self._loss_columns] = 0.0
        self._stock_slice = slice(first_stock, first_loss)
        self._witnesses: list[np.ndarray] = []
        self._seeded = False
        self._least_flow = np.ones(self._t + 1)
        self._least_flow[self._t] = 0.0

    def _bounds(self, lost: tuple[str, str] | None) -> np.ndarray:
        """Upper bounds with the lost node's flows and stock held at zero."""
        upper = self._upper.copy()
        for column in self._lost_columns(lost):
            upper[column] = 0.0
        return upper

    def _lost_columns(self, lost: tuple[str, str] | None) -> list[int]:
        if lost is None:
            return []
        kind, node = lost
        if kind == "offer":
            return [self._offer_columns[node], *self._stock_columns[lost]]
        if kind == "facility":
            return [*self._run_columns[node], *self._stock_columns[lost]]
        columns = list(self._stock_columns[lost])
        for offer in self.network.offers.values():
            if offer.supplier == node:
                columns += self._lost_columns(("offer", offer.id))
        for facility in self.network.facilities.values():
            if facility.operator == node:
                columns += self._lost_columns(("facility", facility.id))
        return columns

    def _solve(self, objective: np.ndarray, upper: np.ndarray):
        bounds = np.column_stack([np.zeros_like(upper), upper])
        bounds[self._t, 0] = upper[self._t] if np.isfinite(upper[self._t]) else 0.0
        return linprog(
            objective,
            A_ub=self._matrix,
            b_ub=np.zeros(self._matrix.shape[0]),
            bounds=bounds,
            method="highs",
        )

    # -- per node ----------------------------------------------------------------------------

    def time_to_survive(self, node: str | None = None, kind: str | None = None) -> float:
        """Periods the network keeps meeting all demand without `node` (None: intact)."""
        lost = None if node is None else self._resolve(node, kind)
        columns = self._lost_columns(lost)
        if self._witnessed(columns):
            return math.inf
        upper = self._bounds(lost)
        if self._steady_state(upper):
            return math.inf
        objective = np.zeros(self._t + 1)
        objective[self._t] = -1.0
        result = self._solve(objective, upper)
        if result.status != 0:
            # Zero is feasible and the steady state is not: the LP is bounded, so this is a bug.
            raise RuntimeError(f"time to survive {_show(lost)}: the LP failed: {result.message}")
        return max(0.0, -result.fun)

    def _steady_state(self, upper: np.ndarray) -> bool:
        """Whether capacity alone meets demand every period; the flows found are kept as a
        witness, the least total flow so that they leave as many nodes idle as they can."""
        steady = upper.copy()
        steady[self._stock_slice] = 0.0
        steady[self._t] = 1.0
        result = self._solve(self._least_flow, steady)
        if result.status != 0:
            return False
        self._witnesses.append(result.x)
        return True

    def _witnessed(self, columns: list[int]) -> bool:
        """Whether a steady state found before leaves the lost node's columns idle: then its loss
        changes nothing forever, and no LP is needed. Most nodes of a large network are such."""
        if not self._seeded:
            self._seeded = True
            self._steady_state(self._upper)
        return any(np.all(flows[columns] <= _TOLERANCE) for flows in self._witnesses)

    def time_to_recover(self, node: str, kind: str | None = None) -> float:
        """The given TTR, else an offer's lead time, else the default."""
        kind, node = self._resolve(node, kind)
        given = self.parameters.time_to_recover
        if node in given:
            return float(given[node])
        if kind == "offer" and self.network.offers[node].lead_time_days is not None:
            return float(self.network.offers[node].lead_time_days)
        return float(self.parameters.default_time_to_recover)

    def lost_demand(self, node: str, kind: str | None = None, ttr: float | None = None) -> float:
        """The least weighted demand lost while `node` is down for `ttr` (default: its TTR)."""
        lost = self._resolve(node, kind)
        ttr = self.time_to_recover(node, lost[0]) if ttr is None else ttr
        _check_amount("ttr", ttr)
        upper = self._bounds(lost)
        upper[self._t] = ttr
        upper[self._loss_columns] = [self.parameters.demand[p] * ttr for p in self._products]
        objective = np.zeros(self._t + 1)
        objective[self._loss_columns] = [self.parameters.margin.get(p, 1.0) for p in self._products]
        result = self._solve(objective, upper)
        if result.status != 0:
            raise RuntimeError(f"lost demand {_show(lost)}: the LP failed: {result.message}")
        return result.fun if result.fun > _TOLERANCE * max(1.0, ttr) else 0.0

    def exposure(self, node: str, kind: str | None = None) -> NodeExposure:
        kind, node = self._resolve(node, kind)
        tts = self.time_to_survive(node, kind)
        ttr = self.time_to_recover(node, kind)
        exposed = tts < ttr - _TOLERANCE * max(1.0, ttr)
        # Feasibility is monotone in t: a node that survives its TTR loses nothing.
        lost = self.lost_demand(node, kind, ttr) if exposed else 0.0
        return NodeExposure(node, kind, self._name(kind, node), tts, ttr, lost, exposed)

    def exposures(self, kinds: Iterable[str] = ("facility", "offer")) -> list[NodeExposure]:
        """Every node of these kinds, the most exposed first (see `ranked`)."""
        kinds = tuple(kinds)
        for kind in kinds:
            if kind not in KINDS:
                raise ValueError(f"unknown kind of node {kind!r}; one of {', '.join(KINDS)}")
        records = {
            "offer": self.network.offers,
            "facility": self.network.facilities,
            "participant": self.network.participants,
        }
        return ranked(self.exposure(node, kind) for kind in kinds for node in records[kind])

    # -- names -------------------------------------------------------------------------------

    def _resolve(self, node: str, kind: str | None = None) -> tuple[str, str]:
        kinds = self._kinds.get(node, ())
        if kind is not None:
            if kind not in kinds:
                raise ValueError(f"unknown {kind} {node!r}")
            return kind, node
        if not kinds:
            raise ValueError(f"unknown node {node!r}")
        if len(kinds) > 1:
            raise ValueError(f"node {node!r} is ambiguous: {' and '.join(kinds)}")
        return kinds[0], node

    def _name(self, kind: str, node: str) -> str:
        network = self.network
        if kind == "facility":
            return network.facilities[node].name or node
        if kind == "participant":
            return network.participants[node].name
        offer = network.offers[node]
        item = network.items.get(offer.item)
        supplier = network.participants.get(offer.supplier) if offer.supplier else None
        what = item.name if item else offer.item
        return f"{what} from {supplier.name}" if supplier else what


def ranked(exposures: Iterable[NodeExposure]) -> list[NodeExposure]:
    """Exposed nodes first; then the larger lost demand, the longer shortfall, kind and id."""
    return sorted(
        exposures,
        key=lambda e: (not e.exposed, -e.lost_demand, -e.shortfall, e.kind, e.node),
    )


def exposures(
    network: Network,
    parameters: SurvivalParameters,
    kinds: Iterable[str] = ("facility", "offer"),
) -> list[NodeExposure]:
    """TTS, TTR and lost demand of every node of these kinds, the most exposed first."""
    return SurvivalModel(network, parameters).exposures(kinds)


def time_to_survive(
    network: Network, parameters: SurvivalParameters, node: str | None = None
) -> float:
    """Periods the network keeps meeting all demand without `node` (None: intact)."""
    return SurvivalModel(network, parameters).time_to_survive(node)


def _item_rows(network: Network) -> dict[str, int]:
    """A row per item, the catalogue's and any a design or offer names without declaring."""
    named = [*network.items, *(o.item for o in network.offers.values())]
    for design in network.designs.values():
        named += [design.makes, *(input_id for input_id, _ in design.inputs)]
    return {item_id: row for row, item_id in enumerate(dict.fromkeys(named))}


def _kinds_by_id(network: Network) -> dict[str, tuple[str, ...]]:
    kinds: dict[str, list[str]] = defaultdict(list)
    for kind, records in (
        ("offer", network.offers),
        ("facility", network.facilities),
        ("participant", network.participants),
    ):
        for node in records:
            kinds[node].append(kind)
    return {node: tuple(k) for node, k in kinds.items()}


def _check_capacities(network: Network) -> None:
    for offer in network.offers.values():
        if offer.capacity is not None:
            _check_amount(f"capacity of offer {offer.id!r}", offer.capacity)
    for facility in network.facilities.values():
        for item_id, capacity in facility.capacity.items():
            _check_amount(f"capacity of facility {facility.id!r} for {item_id!r}", capacity)


def _check_amount(what: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{what} must be a number, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number ≥ 0, not {value!r}")


def _show(key) -> str:
    if isinstance(key, tuple):
        return "/".join(str(k) for k in key)
    return str(key)


__all__ = [
    "DEFAULT_TIME_TO_RECOVER",
    "KINDS",
    "NodeExposure",
    "SurvivalModel",
    "SurvivalParameters",
    "exposures",
    "ranked",
    "time_to_survive",
]
