"""The handler table: every command the application carries out, and the one function that
carries it out. Services dispatches by this table only; the composition root (bots/bootstrap.py)
hands it over. A command of core/service/commands.py without a handler fails the import."""

from __future__ import annotations

from dataclasses import is_dataclass

from core.service import (
    acceptance,
    assertions,
    commands,
    coordination,
    disruptions,
    inbound,
    intents,
    lateness,
    negotiation,
    orders,
    participants,
    reweaving,
    standing,
    talk,
    valueflows_io,
)
from core.service.commands import (
    AcceptMatch,
    AffectedOrders,
    Agree,
    AnalyseDisruption,
    ApplyInbound,
    AssertStage,
    CancelOrder,
    CastIntent,
    ChoosePlan,
    CreateInvite,
    DecideSubstitution,
    Decline,
    Disrupt,
    EditIntent,
    ExpireIntents,
    HandStage,
    ImportIntents,
    Join,
    LoadNetwork,
    MatchIntent,
    PlaceOrder,
    ProposeSubstitution,
    QuotePrice,
    Receive,
    Register,
    ReportUse,
    Restore,
    Reweave,
    Say,
    SpeakForEveryone,
    SyncDependentDemand,
    Watch,
    WeaveOrder,
    WithdrawIntent,
)
from core.service.inbound import InboundFailed

HANDLERS = {
    lateness.TellLateStages: lateness.tell_late_stages,
    AcceptMatch: acceptance.accept_match,
    AssertStage: assertions.assert_stage,
    CancelOrder: coordination.cancel_order,
    HandStage: coordination.hand_stage,
    AffectedOrders: disruptions.affected_orders,
    AnalyseDisruption: disruptions.analyse_disruption,
    Disrupt: disruptions.disrupt,
    Restore: disruptions.restore,
    Watch: disruptions.watch,
    ApplyInbound: inbound.apply_inbound,
    InboundFailed: inbound.inbound_failed,
    Receive: inbound.receive,
    CastIntent: intents.cast_intent,
    EditIntent: intents.edit_intent,
    ExpireIntents: intents.expire_intents,
    MatchIntent: intents.match_intent,
    SyncDependentDemand: intents.sync_dependent_demand,
    WithdrawIntent: intents.withdraw_intent,
    QuotePrice: negotiation.quote_price,
    Agree: orders.agree,
    ChoosePlan: orders.choose_plan,
    Decline: orders.decline,
    PlaceOrder: orders.place_order,
    WeaveOrder: orders.weave_order,
    CreateInvite: participants.create_invite,
    Join: participants.join,
    LoadNetwork: participants.load_network,
    Register: participants.register,
    SpeakForEveryone: participants.speak_for_everyone,
    DecideSubstitution: reweaving.decide_substitution,
    ProposeSubstitution: reweaving.propose_substitution,
    Reweave: reweaving.reweave,
    ReportUse: standing.report_use,
    Say: talk.say,
    ImportIntents: valueflows_io.import_valueflows,
}

# Commands whose trial (Services.trial) runs only their checks, because carrying them out
# would take a number a person reads (PostgreSQL sequences do not roll back).
CHECKS = {
    PlaceOrder: orders.order_checked,
    AcceptMatch: acceptance.match_checked,
    ReportUse: standing.use_checked,
}


def _unhandled() -> list[str]:
    """The commands no handler carries out (ReadOrder only names what a refused read was
    about)."""
    return [
        name
        for name, kind in vars(commands).items()
        if isinstance(kind, type)
        and is_dataclass(kind)
        and kind.__module__ == commands.__name__
        and kind is not commands.ReadOrder
        and kind not in HANDLERS
    ]


if _unhandled():  # a use case without its handler fails here, not when first used
    raise ImportError(f"commands without a handler: {', '.join(_unhandled())}")
