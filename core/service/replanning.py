"""What the re-plans of one unit of work share: a disruption's batch re-plans many orders over
the same network, so what does not depend on the order is read once for all of them."""

from __future__ import annotations

from functools import cached_property

from sqlmodel import select

from core.network.model import Network
from core.risk.reliability import Reliability
from core.service import capacity, records
from core.service.bus import Context
from core.service.risk import reliability
from core.store.tables import Contract, Disruption, OrderRow
from core.weave import SupplyIndex
from core.weave.legs import VEHICLE
from core.weave.plan import Plan


class Replanning:
    """Read on first use, then kept for the unit of work: the newest network version, the
    network as loaded (a holder whose shop is out of service still drives what it holds over),
    who is out of service, the learned reliability (as the first re-plan of the batch found
    it), and each usable network with its supply index. And the agreed contracts given new
    plans, whose reservations move when the re-plans are `settle`d."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._usable: dict[tuple[frozenset[str], frozenset[str]], tuple[Network, SupplyIndex]] = {}
        self._moved: list[tuple[Contract, Plan]] = []

    @cached_property
    def version(self) -> int:
        return records.network_version(self.ctx.session)

    @cached_property
    def whole(self) -> Network:
        return self.ctx.network_at(self.version) if self.version else Network()

    @cached_property
    def down(self) -> set[str]:
        """The participants out of service."""
        rows = self.ctx.session.exec(
            select(Disruption.resource_id).where(
                Disruption.kind == "participant", Disruption.restored_at.is_(None)
            )
        )
        return set(rows)

    @cached_property
    def learned(self) -> Reliability:
        return reliability(self.ctx.session, self.ctx.network())

    def usable(self, order: OrderRow, avoid: set[str]) -> tuple[Network, SupplyIndex]:
        """The network now without the order's decliners and the sources that failed it, and
        its supply index: orders that avoid the same share both."""
        key = (frozenset(order.excluded), frozenset(avoid))
        if key not in self._usable:
            network = _usable_network(self.ctx, order, avoid)
            self._usable[key] = (network, SupplyIndex(network))
        return self._usable[key]

    def moved(self, contract: Contract, plan: Plan) -> None:
        """The agreed contract carries out `plan` now: its reservations move when settled."""
        self._moved.append((contract, plan))

    def settle(self) -> None:
        """Move the reservations of the contracts re-planned so far (before the unit of work
        commits, and before an agreement is checked against what is left)."""
        if self._moved:
            capacity.replanned(self.ctx, self._moved)
            self._moved = []


def _usable_network(ctx: Context, order: OrderRow, avoid: set[str]) -> Network:
    """The network now, without the order's decliners and the sources that failed it."""
    return ctx.network().without(
        participants=order.excluded,
        facilities={a.rsplit("@", 1)[1] for a in avoid if a.startswith("design:")},
        offers={a.removeprefix("offer:") for a in avoid if a.startswith("offer:")},
        # A vehicle's stages are labelled vehicle:ID:FROM>TO (core/stages/plan.carriage_label).
        transport={a.split(":")[1] for a in avoid if a.startswith(f"{VEHICLE}:")},
    )
