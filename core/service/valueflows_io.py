"""Value Flows in and out of the store: the document of everything other VF tools can use (the
network's people, every intent, every agreed or completed order with its plan and what was
asserted about its stages), and the intents of a VF document cast as if typed in chat.

The translation itself is core/intents/valueflows/; this module only gathers its records from
the tables and writes back the intents it reads.
"""

from __future__ import annotations

from sqlmodel import Session, select

from core.intents.grammar import describe
from core.intents.model import Intent
from core.intents.valueflows import OrderRecord, export, import_intents
from core.network.model import Network
from core.service import records
from core.service.bus import Context, bounded
from core.service.commands import ImportIntents, MatchIntent
from core.service.intent_rows import to_intent, write_intent
from core.service.intents import placed
from core.service.notices.intents import IntentOut
from core.service.results import Refused
from core.stages.plan import plan_stages
from core.stages.update import Assertion
from core.store.tables import AssertionRow, Contract, IntentRow, OrderRow, ParticipantRow, PlanRow
from core.weave.plan import Demand, Plan

# The contracts whose plan is a commitment worth telling other tools about.
EXPORTED = ("agreed", "completed")


# -- export ------------------------------------------------------------------------------------


def valueflows_document(services, session: Session, base: str) -> dict:
    """The VF JSON-LD document of the store: the newest network's participants, every intent
    (open or not: a finished one says so), and each order whose latest agreed or completed
    contract gives it a plan, with that plan's commitments and the events of its done stages.

    The newest network version is used whole, disruptions aside: a person whose workshop is
    down is still an agent of the intents and orders they are in.
    """
    network = services.network_at(session, records.network_version(session))
    intents = [to_intent(r) for r in session.exec(select(IntentRow).order_by(IntentRow.id))]
    return export(network, base, intents, order_records(services, session, network))


def order_records(services, session: Session, network: Network) -> list[OrderRecord]:
    """Each order with an agreed or completed contract, as the export reads it: the contract's
    plan rebuilt over the network version it was woven on, and the assertions about its live
    (not superseded) stages in the order they were made.

    The export rebuilds the stages as Plan P of the current plan, numbered s1, s2, … afresh.
    An order never re-planned has exactly those codes. A re-planned one keeps the codes of the
    stages it carried over and numbers new ones after the old; its assertions are matched to
    the fresh stages the way a re-plan carries stages over — same node, same source, same kind,
    same owner — and an assertion about a stage with no such fresh stage is left out. So the
    export's commitment and event ids (…/commitments/s4) are Plan P's numbering, which for a
    re-planned order may differ from the codes people typed in chat.
    """
    latest: dict[int, Contract] = {}
    for contract in session.exec(
        select(Contract).where(Contract.status.in_(EXPORTED)).order_by(Contract.id)
    ):
        latest[contract.order_id] = contract
    found = []
    for order_id, contract in sorted(latest.items()):
        order = session.get(OrderRow, order_id)
        plan_row = session.get(PlanRow, contract.plan_id)
        plan = records.rebuild_plan(
            services.network_at(session, plan_row.network_version), plan_row
        )
        found.append(
            OrderRecord(
                id=order.id,
                buyer=order.buyer_id,
                lines=tuple(
                    Demand(x.item_id, x.quantity) for x in records.lines(session, order.id)
                ),
                plan=plan,
                created=order.created_at,
                due=order.due,
                assertions=_assertions(session, network, plan, order.buyer_id, contract.id),
            )
        )
    return found


def _assertions(
    session: Session, network: Network, plan: Plan, buyer: str, contract_id: int
) -> tuple[Assertion, ...]:
    fresh = {(s.node, s.source, s.kind, s.owner): s.id for s in plan_stages(network, plan, buyer)}
    code_of = {
        row.id: fresh.get((row.node, row.source, row.kind, row.owner_id))
        for row in records.stage_rows(session, contract_id)
        if row.status != "superseded"
    }
    said = session.exec(
        select(AssertionRow)
        .where(AssertionRow.stage_id.in_(list(code_of)))
        .order_by(AssertionRow.id)  # the order they were applied in
    )
    return tuple(
        Assertion(
            stage=code_of[row.stage_id],
            status=row.status,
            by=row.participant_id,
            at=row.at,
            platform=row.platform,
            message_id=row.message_id,
            evidence=row.evidence,
        )
        for row in said
        if code_of[row.stage_id] is not None
    )


# -- import ------------------------------------------------------------------------------------


def import_valueflows(command: ImportIntents, ctx: Context) -> list[int]:
    """Cast the open intents of a VF document, all or none; returns their ids.

    Everyone they name must be a participant already: an import brings in what people offer and
    ask for, not the people. A person imports their own intents, a coordinator anyone's; the
    command line (actor None) speaks for the operator, who may import anyone's.
    """
    if command.actor is not None:
        records.participant(ctx.session, command.actor)
    source = bounded(command.source, "the source", 500)
    network = ctx.network()
    try:
        intents = import_intents(command.document, network, ctx.now.date())
    except ValueError as problem:
        raise Refused(f"not a Value Flows document I can read: {problem}") from None
    for intent in intents:
        _check(ctx, command.actor, intent)
    ids = []
    for intent in intents:
        intent = placed(intent, network)
        words = describe(intent, network)[:2000]
        row = write_intent(IntentRow(words=words, created_at=ctx.now), intent)
        row.provenance = {"imported": source}
        ctx.session.add(row)
        ctx.session.flush()
        ctx.record(
            "intent_imported",
            {"intent": row.id, "kind": row.kind, "participant": row.participant_id, "from": source},
            actor=command.actor,
        )
        ctx.notify(row.participant_id, IntentOut(row.kind, row.id, words, source))
        ctx.result.jobs.append(MatchIntent(row.id))
        ids.append(row.id)
    return ids


def _check(ctx: Context, actor: str | None, intent: Intent) -> None:
    """Refuse the whole import for one intent that cannot be cast as it is."""
    if ctx.session.get(ParticipantRow, intent.participant) is None:
        who = intent.participant[:120]
        raise Refused(f"unknown participant {who!r}: nothing was imported")
    if actor is not None and intent.participant != actor:
        if not records.is_coordinator(ctx.session, actor):
            raise Refused(
                f"an intent of {intent.participant!r} is in the document; you can import only "
                "your own (a coordinator can import anyone's)"
            )
    # The columns' limits: a document written elsewhere is not bounded by our grammar.
    bounded(intent.resource.id, "the name of what an intent is about", 200)
    bounded(intent.note, "an intent's note")
    bounded(intent.place_name, "an intent's place", 200)
    if intent.quantity is not None:
        bounded(intent.quantity.unit, "an intent's unit", 40)
