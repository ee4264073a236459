"""Reliability: how likely each stage of a plan is to fail, declared and then learned.

Every stage has an owner and a kind (ARCHITECTURE.md, Stages). Its failure probability starts from
a prior by kind, and moves towards what the owner has actually done with stages of that kind, by
additive smoothing:

    p = (failed + m·prior) / (total + m),   m = PSEUDO_COUNT = 2

so the declared prior weighs as much as two observed stages: with a prior of 0.5 this is
Laplace's rule of succession (f + 1) / (n + 2); with no history it is the prior; with a long
history it is the observed share. History comes as counts per (participant, stage kind), which
the service layer reads from the stages it recorded.

The prior by kind: making and shipping carry the risk of a plan — their prior is what the network
declares (the offer's, else the facility's, else the participant's `failure_probability`; for a
leg's pickup, the vehicle's, else its operator's, or the fetching receiver's), else
KIND_PRIORS; a maker declaring 20 % is trusted to fail its making 20 % of the time, and its
shipping as often. Confirming, inspecting, receiving and the buyer's accepting carry almost none
whoever does them (KIND_PRIORS), until history says otherwise. So plans differ by who makes and
ships, not by how many hand-overs they have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import exp, log
from types import MappingProxyType

import numpy as np

from core.network.model import DEFAULT_FAILURE_PROBABILITY, Network
from core.stages.graph import Stage
from core.stages.plan import (
    moving_key,
    moving_stage_owners,
    node_stage_owners,
    own_stage_owners,
    plan_stages,
)
from core.weave.legs import Leg
from core.weave.plan import Plan, PlanNode
from core.weave.ranking import ZERO
from core.weave.sources import Bought, Source

PSEUDO_COUNT = 2.0
"""How many observed stages the declared prior is worth."""

KIND_PRIORS = {
    "make": DEFAULT_FAILURE_PROBABILITY,
    "ship": 0.03,
    # A leg's journey starts at its pickup (a vehicle loading, a receiver fetching): it carries
    # the leg's risk as `ship` does; a vehicle's `deliver` is the hand-over at the end, as
    # small as a `receive`, so a leg weighs one journey however many hand-overs it has.
    "pickup": 0.03,
    "deliver": 0.005,
    "inspect": 0.01,
    "confirm": 0.005,
    "receive": 0.005,
    "accept": 0.005,
}
"""A stage's failure probability before any history, when nothing is declared for it."""
CARRYING = frozenset({"make", "ship", "pickup"})
"""The kinds a declared failure probability speaks for; the others keep their KIND_PRIORS."""

History = Mapping[tuple[str, str], tuple[int, int]]
"""(participant id, stage kind) → (failed, total) stages of that kind the participant owned."""

# Below this, −log(1 − p) of a certain failure would be infinite; the ranking keeps it finite.
_SURVIVAL_FLOOR = 1e-12

# The stages a source's own party carries (stages.plan): the parent's `receive` of its goods
# belongs to whoever it delivers to, so a design node carries one `receive` per input instead.
_BOUGHT_KINDS = ("confirm", "ship")
_MADE_KINDS = ("make", "inspect", "ship")


def smoothed(failed: int, total: int, prior: float, pseudo_count: float = PSEUDO_COUNT) -> float:
    """The failure probability after `failed` of `total` stages, from `prior`."""
    if not 0 <= failed <= total:
        raise ValueError(f"failed stages ({failed}) must be between 0 and total ({total})")
    return (failed + pseudo_count * prior) / (total + pseudo_count)


def survival_risk(p: float) -> float:
    """−log(1 − p): additive over independent stages, as the weave's scores must be."""
    return -log(max(_SURVIVAL_FLOOR, 1.0 - p))


@dataclass(frozen=True)
class StageRisk:
    """One stage of a plan with its declared prior and its failure probability now."""

    stage: Stage
    prior: float
    failure: float
    failed: int = 0
    total: int = 0


@dataclass(frozen=True)
class PlanRisk:
    """A plan's probability of failing, and its stages, riskiest first.

    `risk` is −log of the probability of success, Σ −log(1 − p) over the stages: what the risk
    ranking sums, less the buyer's stages (see `Reliability.source_risk`).
    """

    failure: float
    risk: float
    stages: tuple[StageRisk, ...]

    @property
    def success(self) -> float:
        return exp(-self.risk)


class Reliability:
    """Failure probabilities of a network's participants, per stage kind, given their history.

    Immutable once made (the history is copied), so what it computes per source is kept;
    compared by identity, so a Ranking that carries one stays hashable.
    """

    def __init__(
        self, network: Network, history: History | None = None, pseudo_count: float = PSEUDO_COUNT
    ):
        if pseudo_count <= 0:
            raise ValueError(
                "the pseudo-count must be positive, or the prior would count for nothing"
            )
        self.network = network
        self.history: Mapping[tuple[str, str], tuple[int, int]] = MappingProxyType(
            dict(history or {})
        )
        self.pseudo_count = pseudo_count
        self._source_risks: dict[tuple, float] = {}
        self._node_risks: dict[tuple, float] = {}

    def observed(self, owner: str | None, kind: str) -> tuple[int, int]:
        """(failed, total) stages of `kind` that `owner` carried; nobody (None) has no history."""
        return self.history.get((owner, kind), (0, 0)) if owner else (0, 0)

    # -- one stage -------------------------------------------------------------------------

    def prior(self, owner: str | None, kind: str, declared: float | None = None) -> float:
        """A stage's probability before history: for making and shipping, what is `declared`
        for the record it is carried out under (an offer, a facility), else what the owner
        declared, else the kind's prior; for any other kind, the kind's prior."""
        if kind not in CARRYING:
            return KIND_PRIORS.get(kind, DEFAULT_FAILURE_PROBABILITY)
        if declared is None:
            participant = self.network.participants.get(owner) if owner else None
            declared = participant.failure_probability if participant else None
        return KIND_PRIORS[kind] if declared is None else declared

    def p(self, owner: str | None, kind: str, prior: float | None = None) -> float:
        """The probability that `owner` fails a stage of `kind`.

        `prior` is the declared probability of the record the stage is carried out under (an
        offer, a facility), None when it declares none (see `prior`). Nobody (owner None) has no
        history.
        """
        failed, total = self.observed(owner, kind)
        return smoothed(failed, total, self.prior(owner, kind, prior), self.pseudo_count)

    # -- one source, for the weave (core.weave.ranking.SourceRisks) ------------------------

    def source_risk(self, source: Source) -> float:
        """Σ −log(1 − p) over the stages the source's own party carries in a plan.

        An offer: the supplier's confirm and ship. A design at a facility: the operator's make,
        inspect and ship, and its receive of each input. The receive of the source's own goods
        is the parent's (counted at the parent), and the root's receive and the accept are the
        buyer's, the same for every plan of an order. So a plan's summed score is
        −log(1 − its failure probability) less the buyer's part, and ranking by it ranks by
        the probability of success — and it depends on the source alone, as the weave needs.
        Exact only where every node ships and receives (a network that plans no transport);
        with legs, `node_risk` is.
        """
        key = _source_key(source)
        known = self._source_risks.get(key)
        if known is not None:
            return known
        prior = self._record_prior(source)
        if type(source) is Bought:
            owner, kinds = source.offer.supplier, _BOUGHT_KINDS
        else:
            owner = source.facility.operator
            kinds = _MADE_KINDS + ("receive",) * len(source.design.inputs)
        risk = sum(survival_risk(self.p(owner, kind, prior)) for kind in kinds)
        self._source_risks[key] = risk
        return risk

    def node_risk(self, source: Source, leg: Leg | None, receiver: str | None) -> float:
        """Σ −log(1 − p) over the stages Plan P gives one node (core.stages.plan): its source's
        own, then those moving its goods by `leg` to `receiver` (the operator of the parent's
        facility, or the buyer), the receive included. A plan's risk is the sum over its nodes
        plus its lines' accepts, whatever its legs; it depends on the node alone, as the weave
        needs."""
        key = (_source_key(source), None if leg is None else leg.id, receiver)
        known = self._node_risks.get(key)
        if known is not None:
            return known
        record = self._record_prior(source)
        vehicle = self._vehicle_prior(leg)
        risk = sum(
            survival_risk(self.p(owner, kind, _declared(kind, record, vehicle)))
            for kind, owner in node_stage_owners(self.network, source, leg, receiver)
        )
        self._node_risks[key] = risk
        return risk

    def own_risk(self, source: Source) -> float:
        """`node_risk`'s share of the source's own stages (`confirm`, or `make → inspect`)."""
        key = ("own", _source_key(source))
        known = self._node_risks.get(key)
        if known is None:
            record = self._record_prior(source)
            known = self._node_risks[key] = sum(
                survival_risk(self.p(owner, kind, _declared(kind, record, None)))
                for kind, owner in own_stage_owners(source)
            )
        return known

    def moving_key(self, source: Source) -> tuple:
        """What `moving_risk` reads of a source besides its leg and receiver: its sender,
        whether it is work in progress, and what its record declares."""
        return (moving_key(source), self._record_prior(source))

    def moving_risk(self, source: Source, leg: Leg | None, receiver: str | None) -> float:
        """`node_risk`'s share of the stages that move the goods to `receiver` by `leg`: the
        same for every source of one sender whose record (an offer, a facility) declares the
        same (`moving_key`)."""
        key = ("moving", self.moving_key(source), None if leg is None else leg.id, receiver)
        known = self._node_risks.get(key)
        if known is None:
            prior, vehicle = key[1][1], self._vehicle_prior(leg)
            known = self._node_risks[key] = sum(
                survival_risk(self.p(owner, kind, _declared(kind, prior, vehicle)))
                for kind, owner in moving_stage_owners(self.network, source, leg, receiver)
            )
        return known

    # -- a whole plan ----------------------------------------------------------------------

    def plan_risk(self, plan: Plan | PlanNode, buyer: str | None = None) -> PlanRisk:
        """Every stage the plan would have (Plan P), and the plan's probability of failing.

        Stages are taken to fail independently: P(fail) = 1 − Π(1 − p). Shared causes (one
        flood closing two shops of one town) make the true figure lower than this for the same
        stage probabilities, and the loss heavier when it comes; fragility is where that is
        modelled. A PlanNode is a plan of one line delivered to `buyer` (or to the maker
        upstream that receives it).
        """
        if isinstance(plan, PlanNode):
            plan = Plan(lines=(plan,), score=ZERO, rank=1)
        sources = dict(plan.positioned())
        risks = []
        for stage in plan_stages(self.network, plan, buyer):
            prior = self.prior(stage.owner, stage.kind, self._stage_declared(stage, sources))
            failed, total = self.observed(stage.owner, stage.kind)
            failure = smoothed(failed, total, prior, self.pseudo_count)
            risks.append(StageRisk(stage, prior, failure, failed, total))
        # In logs: a plan of many reliable stages fails rarely, and 1 − Π(1 − p) would lose it.
        with np.errstate(divide="ignore"):
            risk = float(-np.log1p(-np.array([r.failure for r in risks], dtype=float)).sum())
        ordered = sorted(risks, key=lambda r: -r.failure)  # stable: stage order among equals
        return PlanRisk(failure=float(-np.expm1(-risk)), risk=risk, stages=tuple(ordered))

    def plan_failure(self, plan: Plan | PlanNode, buyer: str | None = None) -> float:
        return self.plan_risk(plan, buyer).failure

    def _stage_declared(self, stage: Stage, sources: Mapping[str, PlanNode]) -> float | None:
        """What is declared for the record under which the stage's owner makes or ships: a
        vehicle's pickup, the vehicle's (else its operator's); a receiver's pickup, the
        receiver's own (None here: `prior` reads the owner's)."""
        if stage.kind not in CARRYING:
            return None
        node = sources[stage.node]
        if stage.kind == "pickup":
            return self._vehicle_prior(node.leg)
        return self._record_prior(node.source)

    def _vehicle_prior(self, leg: Leg | None) -> float | None:
        """The vehicle's declared probability, else its operator's; None for a leg with no
        vehicle (a receiver fetching its goods: `prior` reads the receiver's own)."""
        vehicle = leg.transport if leg is not None else None
        if vehicle is None:
            return None
        if vehicle.failure_probability is not None:
            return vehicle.failure_probability
        operator = self.network.participants.get(vehicle.operator) if vehicle.operator else None
        return operator.failure_probability if operator else None

    def _record_prior(self, source: Source) -> float | None:
        """The offer's declared probability, else its supplier's; the facility's, else its
        operator's; None when none is declared."""
        network = self.network
        if type(source) is Bought:
            own, owner = source.offer.failure_probability, source.offer.supplier
        else:
            own, owner = source.facility.failure_probability, source.facility.operator
        if own is not None:
            return own
        participant = network.participants.get(owner) if owner else None
        return participant.failure_probability if participant else None


def _declared(kind: str, record: float | None, vehicle: float | None) -> float | None:
    """What is declared for a stage of `kind` of one node (see `_stage_declared`)."""
    if kind not in CARRYING:
        return None
    return vehicle if kind == "pickup" else record


def _source_key(source: Source) -> tuple:
    if type(source) is Bought:
        return ("offer", source.offer.id)
    return ("design", source.design.id, source.facility.id)
