"""What the re-plans of one unit of work share: a disruption's batch re-plans many orders over
the same network, so what does not depend on the order is read once for all of them."""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cached_property
from typing import TypeVar

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select

from core.network.model import Network
from core.risk.reliability import Reliability
from core.service import capacity, lifecycle, records
from core.service.bus import Context
from core.service.lifecycle import Decision
from core.service.negotiation import quoted, reader_platforms
from core.service.risk import reliability
from core.store.tables import (
    Agreement,
    Contract,
    Disruption,
    OrderRow,
    PlanRow,
    Quote,
    StageRow,
    SubstitutionRow,
)
from core.weave import SupplyIndex
from core.weave.legs import VEHICLE
from core.weave.plan import Plan, PlanNode

T = TypeVar("T")


class Replanning:
    """Read on first use, then kept for the unit of work: the newest network version, the
    network as loaded (a holder whose shop is out of service still drives what it holds over),
    who is out of service, the learned reliability (as the first re-plan of the batch found
    it), each usable network with its supply index, each sub-plan woven, and where each
    party reads their messages. What a batch of orders reads of each order, read ahead for all
    of them (`read_ahead`), their stage rows and their parties' word included: the re-plans
    change those here (`stages_failed`, `stages_carried`, `decide`), and the rows are written
    for all of them at once when the re-plans are `settle`d, with the reservations of the
    agreed contracts given new plans moved. Until then, whom a contract waits for is told from
    here (`awaited`), not read."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._usable: dict[tuple[frozenset[str], frozenset[str]], tuple[Network, SupplyIndex]] = {}
        self._moved: list[tuple[Contract, Plan]] = []
        self._sub_plans: dict[tuple, PlanNode | None] = {}
        self._alike: dict[tuple, tuple[tuple, object]] = {}
        # Read ahead for a batch of orders (`read_ahead`); an order not read ahead is read alone.
        self._contracts: dict[int, Contract | None] = {}
        self._plan_rows: dict[int, PlanRow] = {}
        self._batches: dict[int, int] = {}
        self._proposed: dict[int, list[SubstitutionRow]] = {}
        self._quotes: dict[int, dict[str, float]] = {}
        self._platforms: dict[str, tuple[str, ...]] = {}
        self._indexes: dict[int, SupplyIndex] = {}
        # Each contract's stage rows and each party's word on it, as this unit of work left them.
        self._stages: dict[int, list[StageRecord]] = {}
        self._decided: dict[int, dict[str, str]] = {}
        # Written when settled: stages failed, stages retired, stages carried over whose row
        # changed, new stages, and each party's word.
        self._failed: list[int] = []
        self._retired: list[int] = []
        # When the first of them failed or was retired: written as their time of change, so
        # no stage reads as changed after the messages that told of it (written at `settle`).
        self._failed_at: datetime | None = None
        self._retired_at: datetime | None = None
        self._again: list[dict] = []
        self._new: list[dict] = []
        self._words: dict[tuple[int, str], dict] = {}

    def read_ahead(self, orders: list[OrderRow]) -> None:
        """What re-planning these orders reads of each, in one statement per kind for all of
        them: the live contract, the plan it carries out, the newest batch of plans, the
        substitutions proposed, the prices quoted, and the contract's stage rows and its
        parties' words."""
        ids = [o.id for o in orders]
        session = self.ctx.session
        live = session.exec(
            select(Contract)
            .where(Contract.order_id.in_(ids), Contract.status.in_(lifecycle.LIVE_CONTRACT))
            .order_by(Contract.id)
        )
        self._contracts.update(dict.fromkeys(ids))
        self._contracts.update({c.order_id: c for c in live})  # the newest, as live_contract
        plan_ids = [c.plan_id for c in self._contracts.values() if c is not None]
        rows = session.exec(select(PlanRow).where(PlanRow.id.in_(plan_ids)))
        self._plan_rows.update({row.id: row for row in rows})
        batches = session.exec(
            select(PlanRow.order_id, func.max(PlanRow.batch))
            .where(PlanRow.order_id.in_(ids))
            .group_by(PlanRow.order_id)
        )
        self._batches.update(dict.fromkeys(ids, 0))
        self._batches.update(dict(batches.all()))
        self._proposed.update({i: [] for i in ids})
        for row in session.exec(_proposed(ids)):
            self._proposed[row.order_id].append(row)
        self._quotes.update({i: {} for i in ids})
        prices = session.exec(select(Quote).where(Quote.order_id.in_(ids)).order_by(Quote.id))
        for quote in prices:  # the latest of a variable's quotes holds, as in negotiation
            self._quotes[quote.order_id][quote.variable] = quote.value
        contracts = [c.id for c in self._contracts.values() if c is not None]
        if contracts:
            self._read_stages(contracts)
            self._read_decisions(contracts)

    def _read_stages(self, contracts: list[int]) -> None:
        self._stages.update({c: [] for c in contracts})
        rows = self.ctx.session.execute(_STAGE_ROWS, {"contracts": contracts})
        for row in rows:
            self._stages[row.contract_id].append(StageRecord(*row))

    def _read_decisions(self, contracts: list[int]) -> None:
        self._decided.update({c: {} for c in contracts})
        for contract, participant, decision in self.ctx.session.execute(
            _DECISIONS, {"contracts": contracts}
        ):
            self._decided[contract][participant] = decision

    def stage_rows(self, contract_id: int) -> list[StageRecord]:
        """The contract's stage rows, superseded ones included, in the order of their ids, as
        this unit of work left them (read when not read ahead)."""
        if contract_id not in self._stages:
            self._write()  # what is read is what was changed
            self._read_stages([contract_id])
        return self._stages[contract_id]

    def live_stage_rows(self, contract_id: int) -> list[StageRecord]:
        """The contract's live stage rows (superseded ones left out), dependencies first: what
        records.live_stage_rows gives, for records.graph_of."""
        rows = self.stage_rows(contract_id)
        return records.dependencies_first([r for r in rows if r.status != "superseded"])

    def stages_failed(self, contract_id: int, stage_ids: Iterable[int]) -> None:
        """The contract's stages `stage_ids` failed now."""
        failed = set(stage_ids)
        now = self.ctx.now
        self._stages[contract_id] = [
            r._replace(status="failed", updated_at=now) if r.id in failed else r
            for r in self.stage_rows(contract_id)
        ]
        self._failed += sorted(failed)
        self._failed_at = self._failed_at or now

    def stages_carried(
        self, contract_id: int, retired: list[int], again: list[dict], new: list[dict]
    ) -> None:
        """A re-plan retired the contract's stages `retired`, wrote `again` the rows of the
        stages it kept that changed ({"row": id, column: value…}) and added `new` ones."""
        self._retired += retired
        if retired:
            self._retired_at = self._retired_at or self.ctx.now
        self._again += again
        self._new += new
        self._stages.pop(contract_id, None)  # read again, once written, if asked again

    def decisions(self, contract: Contract) -> dict[str, str]:
        """Each party's word on the contract (lifecycle.decisions), as this unit of work left it."""
        if contract.id not in self._decided:
            self._decided[contract.id] = lifecycle.decisions(self.ctx.session, contract)
        return self._decided[contract.id]

    def decide(self, contract: Contract, participant: str, decision: Decision) -> None:
        """agreement.decide: the party's word on its part, one row per party and contract."""
        self.decisions(contract)[participant] = decision.value
        self._words[(contract.id, participant)] = {
            "contract_id": contract.id,
            "participant_id": participant,
            "decision": decision.value,
            "reason": "",
            "at": self.ctx.now,
        }

    def awaited(self, contract: Contract, order: OrderRow, tree: list, owners: set) -> list[str]:
        """lifecycle.awaited, told from here: the parties of the contract's plan (`tree`, as
        stored) and the owners of its live stages, the buyer too, who have not agreed yet."""
        decided = self.decisions(contract)
        required = lifecycle.plan_participants(tree) | {o for o in owners if o} | {order.buyer_id}
        return sorted(p for p in required if decided.get(p) != Decision.AGREED)

    def live_contract(self, order_id: int) -> Contract | None:
        if order_id not in self._contracts:
            return lifecycle.live_contract(self.ctx.session, order_id)
        return self._contracts[order_id]

    def plan_row(self, contract: Contract) -> PlanRow:
        """The plan the contract carries out, as stored."""
        row = self._plan_rows.get(contract.plan_id)
        return row if row is not None else self.ctx.session.get(PlanRow, contract.plan_id)

    def plan(self, contract: Contract) -> Plan:
        """The plan the contract carries out, over the network it was woven on (each version's
        supply index built once); contracts with alike plans (orders alike) get the same one."""
        row = self.plan_row(contract)
        key = ("plan", row.network_version, row.rank, json.dumps(row.tree, sort_keys=True))
        if key not in self._alike:
            network = self.ctx.network_at(row.network_version)
            if row.network_version not in self._indexes:
                self._indexes[row.network_version] = SupplyIndex(network)
            index = self._indexes[row.network_version]
            self._alike[key] = ((), records.rebuild_plan(network, row, index))
        return self._alike[key][1]

    def alike(self, key: tuple, of: tuple, make: Callable[[], T]) -> T:
        """What `make` finds from the objects `of` (the same objects, not equal ones: a plan,
        a sub-plan…) and `key`, found once for the unit of work: orders alike share their old
        plan (`plan`) and their sub-plans (`sub_plan`), so their new plan, its stages, its
        equation and outlook are found once for all of them. Nothing found is changed after."""
        found = (*key, *map(id, of))
        if found not in self._alike:
            self._alike[found] = (of, make())  # `of` kept alive: no other object takes its id
        return self._alike[found][1]

    def next_batch(self, order_id: int) -> int:
        """The batch number of the order's next plans."""
        if order_id not in self._batches:
            plans = records.plans(self.ctx.session, order_id)
            self._batches[order_id] = max((p.batch for p in plans), default=0)
        self._batches[order_id] += 1
        return self._batches[order_id]

    def proposed(self, order_id: int) -> list[SubstitutionRow]:
        """The substitutions proposed for the order and not decided yet."""
        if order_id not in self._proposed:
            return list(self.ctx.session.exec(_proposed([order_id])))
        return self._proposed.pop(order_id)

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

    def quotes(self, order_id: int) -> dict[str, float]:
        """The prices quoted for the order's equation, by variable."""
        if order_id not in self._quotes:
            self._quotes[order_id] = quoted(self.ctx, order_id)
        return self._quotes[order_id]

    def platforms(self, participant: str) -> tuple[str, ...]:
        """Where the participant reads their messages (reader_platforms), read once."""
        if participant not in self._platforms:
            ctx = self.ctx
            preference = ctx.services.platforms
            found = reader_platforms(ctx.session, ctx.network(), participant, preference)
            self._platforms[participant] = found
        return self._platforms[participant]

    def sub_plan(self, key: tuple, weave: Callable[[], PlanNode | None]) -> PlanNode | None:
        """The sub-plan `weave` finds, woven once for all the re-plans of the unit of work that
        ask for it by the same `key`: everything the weave depends on (the network the order
        may use, what is woven, where it goes, whom for, by what criteria, with what held)."""
        if key not in self._sub_plans:
            self._sub_plans[key] = weave()
        return self._sub_plans[key]

    def moved(self, contract: Contract, plan: Plan) -> None:
        """The agreed contract carries out `plan` now: its reservations move when settled."""
        self._moved.append((contract, plan))

    def settle(self) -> None:
        """Write the stages and the words the re-plans so far changed, and move the reservations
        of the contracts they re-planned (before the unit of work commits, and before an
        agreement is checked against what is left)."""
        self._write()
        if self._moved:
            capacity.replanned(self.ctx, self._moved)
            self._moved = []

    def _write(self) -> None:
        """The stage rows and the words changed so far, in one statement of each kind for all
        the contracts (SQLAlchemy Core: the ORM's objects cost more than the statements); the
        stages failed first, as a re-plan may retire them or carry them over."""
        session = self.ctx.session
        if self._failed:
            session.execute(
                _SET_STATUS,
                {"ids": self._failed, "new_status": "failed", "changed_at": self._failed_at},
            )
        if self._retired:
            session.execute(
                _SET_STATUS,
                {"ids": self._retired, "new_status": "superseded", "changed_at": self._retired_at},
            )
        if self._again:
            session.execute(_STAGE_AGAIN, self._again)
        if self._new:
            session.execute(insert(_STAGES), self._new)
        if self._words:
            upsert = _UPSERT_WORDS[session.get_bind().dialect.name]
            session.execute(upsert, list(self._words.values()))
        self._failed, self._retired, self._again, self._new, self._words = [], [], [], [], {}
        self._failed_at = self._retired_at = None


def _usable_network(ctx: Context, order: OrderRow, avoid: set[str]) -> Network:
    """The network now, without the order's decliners and the sources that failed it."""
    return ctx.network().without(
        participants=order.excluded,
        facilities={a.rsplit("@", 1)[1] for a in avoid if a.startswith("design:")},
        offers={a.removeprefix("offer:") for a in avoid if a.startswith("offer:")},
        # A vehicle's stages are labelled vehicle:ID:FROM>TO (core/stages/plan.carriage_label).
        transport={a.split(":")[1] for a in avoid if a.startswith(f"{VEHICLE}:")},
    )


def _proposed(order_ids: list[int]):
    return select(SubstitutionRow).where(
        SubstitutionRow.order_id.in_(order_ids), SubstitutionRow.status == "proposed"
    )


# Built once (building a statement costs more CPU than running it).
_STAGES, _AGREEMENTS = StageRow.__table__, Agreement.__table__
# A stage row as read, changed in memory by `_replace` until written.
StageRecord = namedtuple("StageRecord", [column.name for column in _STAGES.c])
_STAGE_ROWS = (
    select(_STAGES)
    .where(_STAGES.c.contract_id.in_(bindparam("contracts", expanding=True)))
    .order_by(_STAGES.c.id)
)
_DECISIONS = select(
    _AGREEMENTS.c.contract_id, _AGREEMENTS.c.participant_id, _AGREEMENTS.c.decision
).where(_AGREEMENTS.c.contract_id.in_(bindparam("contracts", expanding=True)))
_SET_STATUS = (
    update(_STAGES)
    .where(_STAGES.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=bindparam("new_status"), updated_at=bindparam("changed_at"))
)
_STAGE_AGAIN = update(_STAGES).where(_STAGES.c.id == bindparam("row"))


# One row per party and contract (agreement.decide): a word given again replaces the last.
def _upsert_words(dialect_insert) -> object:
    statement = dialect_insert(_AGREEMENTS)
    changed = {c: statement.excluded[c] for c in ("decision", "reason", "at")}
    return statement.on_conflict_do_update(
        index_elements=["contract_id", "participant_id"], set_=changed
    )


_UPSERT_WORDS = {
    dialect: _upsert_words(dialect_insert)
    for dialect, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
