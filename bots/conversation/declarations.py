"""Every chat command, declared once: its arguments with their types, who may use it, its help
text, and what it points at — the command class of core it becomes (with what the person is
told right away), the read that answers it, or a step of the conversation itself.

The parser, /help, the access checks and the flows all read this table; nothing else lists
commands. What one declaration holds, and the checks it passes when it is made, are in
declaration.py.
"""

from __future__ import annotations

from bots.conversation import access, grammars, reads, steps, views
from bots.conversation.arguments import (
    Arg,
    iso_date,
    moment,
    order_number,
    price,
    role,
    whole,
    word,
)
from bots.conversation.declaration import (
    ANYONE,
    BUYER,
    COORDINATOR,
    NEWCOMER,
    REGISTERED,
    Command,
    Question,
)
from bots.conversation.messages import Reply
from bots.conversation.turn import Turn
from core.service.commands import (
    AcceptMatch,
    Agree,
    AssertStage,
    CancelOrder,
    ChoosePlan,
    CreateInvite,
    DecideSubstitution,
    Decline,
    Disrupt,
    EditIntent,
    HandStage,
    Join,
    PlaceOrder,
    ProposeSubstitution,
    QuotePrice,
    Register,
    ReportUse,
    Restore,
    Reweave,
    Say,
    Watch,
    WithdrawIntent,
)
from core.service.notices import View


def _help(turn: Turn) -> Reply:
    """The read about this table itself, so it lives here."""
    roles = turn.person.roles if turn.person else None
    topic = turn.values.get("topic")
    if topic:
        return views.help_topic(BY_NAME.get(topic.removeprefix("/").lower()), topic, roles)
    return views.help_list(COMMANDS, roles)


ORDER = Arg("ORDER", "order_id", order_number)

# What /cancel is alone: forgetting the question asked (not in the table: /cancel is).
FORGET = Command("cancel", (), ANYONE, "Forget my last question.", step=steps.forget)

# /choose ORDER alone shows the plans to press, as /plans ORDER does.
PLANS = Command(
    "plans",
    (ORDER, Arg("PAGE", "page", whole("PAGE"), optional=True)),
    REGISTERED,
    "Browse an order's plans, best first, with their price equations.",
    party=True,
    read=reads.plans,
    shows=View.PLANS,
)

COMMANDS: tuple[Command, ...] = (
    Command("start", (), ANYONE, "Say hello and see how to begin.", read=reads.start),
    Command(
        "help",
        (Arg("COMMAND", "topic", word("COMMAND"), optional=True),),
        ANYONE,
        "The commands you may use, or how to use one.",
        read=_help,
    ),
    Command(
        "join",
        (Arg("CODE", "code", word("CODE")), Arg("NAME", "name", optional=True, rest=True)),
        NEWCOMER,
        "Take part with the invite code a coordinator gave you.",
        service=Join,
        enrols=True,
    ),
    Command(
        "register",
        (Arg("ROLE", "role", role), Arg("NAME", "name", optional=True, rest=True)),
        NEWCOMER,
        "Register as a buyer: /register buyer YOUR NAME. Others join with an invite.",
        service=Register,
        enrols=True,
        unnamed="What name should the others see? Usage: /register buyer YOUR NAME",
    ),
    Command(
        "catalog",
        (Arg("WORDS", "words", optional=True, rest=True),),
        ANYONE,
        "What can be ordered, and in how many ways; words narrow the list.",
        read=reads.catalog,
        shows=View.CATALOG,
    ),
    Command(
        "cancel",
        (
            Arg("ORDER", "order_id", order_number, optional=True),
            Arg("REASON", "reason", optional=True, rest=True),
        ),
        ANYONE,
        "Forget my last question; with ORDER, call that order off (its buyer or a coordinator).",
        service=CancelOrder,
        alone=FORGET,
        guard=access.cancellable,
        then="Cancelling order {order_id} — every party is told and released; I'll confirm in a "
        "moment.",
    ),
    Command(
        "invite",
        (
            Arg("ROLE", "role", role),
            Arg("PARTICIPANT", "participant_id", word("PARTICIPANT"), optional=True),
        ),
        COORDINATOR,
        "A one-time invite code for a maker, supplier, transporter or coordinator.",
        service=CreateInvite,
        from_settings={"days": "invite_days"},
        then="Making a {role} invite code — I'll send it to you in a moment.",
    ),
    Command(
        "order",
        (
            Arg("ITEM", "item"),
            Arg("QTY", "quantity"),
            Arg("+CRITERION", "criteria", optional=True, rest=True),
            Arg("by DATE", "due", iso_date, optional=True),
        ),
        BUYER,
        "Order something: I find every way the network can deliver it and show the best.",
        service=PlaceOrder,
        fixed={"weave_now": False},
        then="Working on it — I'll message you when your plans are ready.",
        question=Question(0, "What would you like, and how many?", "chair 2"),
        grammar=grammars.order,
        syntax="ITEM QTY[/PERIOD] [+CRITERION…] [by DATE]",
    ),
    PLANS,
    Command(
        "choose",
        (ORDER, Arg("PLAN", "rank", whole("PLAN"), optional=True)),
        BUYER,
        "Choose a plan; every party then gets its part to agree to.",
        party=True,
        service=ChoosePlan,
        alone=PLANS,  # choosing by button: the plans to press
        then="Choosing plan {rank} for order {order_id} — every party gets its part now, "
        "and you'll hear when all have agreed.",
    ),
    Command(
        "agree",
        (ORDER,),
        REGISTERED,
        "Agree to your part of an order's plan.",
        party=True,
        service=Agree,
        then="Noting your agreement to order {order_id} — you'll hear when everyone has agreed.",
    ),
    Command(
        "decline",
        (ORDER, Arg("REASON", "reason", optional=True, rest=True)),
        REGISTERED,
        "Decline your part; the order is re-planned without you.",
        party=True,
        service=Decline,
        then="Passing on that you decline order {order_id} — it will be re-planned without you.",
    ),
    Command(
        "quote",
        (ORDER, Arg("VAR", "variable", word("VAR")), Arg("PRICE", "value", price)),
        REGISTERED,
        "Set a price you are asked for; every party gets the updated equation.",
        party=True,
        service=QuotePrice,
        then="Recording {value:,.2f} for {variable} on order {order_id} — every party gets "
        "the updated price.",
    ),
    Command(
        "say",
        (ORDER, Arg("TEXT", "text", rest=True)),
        REGISTERED,
        "Talk to every other party of an order, wherever they chat.",
        party=True,
        service=Say,
        then="Passing it on to the other parties of order {order_id}.",
        question=Question(
            1, "What would you like to tell the other parties of order {order_id}?", "see you at 9"
        ),
    ),
    Command(
        "stages",
        (ORDER,),
        REGISTERED,
        "An order's stages: who does each, what is done, and a picture.",
        party=True,
        read=reads.stages,
        shows=View.STAGES,
    ),
    Command(
        "done",
        (
            ORDER,
            Arg("STAGE", "stage", word("STAGE")),
            Arg("EVIDENCE", "evidence", optional=True, rest=True),
        ),
        REGISTERED,
        "Say that a stage you own is done (optionally how you know).",
        party=True,
        service=AssertStage,
        fixed={"status": "done"},
        then="Recording {stage} of order {order_id} as done — I'll confirm in a moment.",
    ),
    Command(
        "fail",
        (ORDER, Arg("STAGE", "stage", word("STAGE")), Arg("REASON", "evidence", rest=True)),
        REGISTERED,
        "Say that a stage you own failed, and why; the order is re-planned around it.",
        party=True,
        service=AssertStage,
        fixed={"status": "failed"},
        then="Recording that {stage} of order {order_id} failed — I'll re-plan and tell "
        "everyone affected.",
        question=Question(2, "What went wrong with {stage}?", "the glue did not set"),
    ),
    Command(
        "disrupt",
        (Arg("RESOURCE", "resource", word("RESOURCE")), Arg("REASON", "reason", rest=True)),
        REGISTERED,
        "Say that a facility, offer or supplier you run is out of service.",
        service=Disrupt,
        fixed={"analyse_now": False},
        then="Recording that {resource} is out of service — orders that use it are re-planned "
        "and their parties told.",
        question=Question(1, "What happened to {resource}?", "flooded until Monday"),
    ),
    Command(
        "restore",
        (Arg("RESOURCE", "resource", word("RESOURCE")),),
        REGISTERED,
        "Say that a resource you run is back in service.",
        service=Restore,
        then="Recording that {resource} is back — orders that waited for it are planned again.",
    ),
    Command(
        "approve",
        (ORDER, Arg("SUB", "substitution_id", whole("SUB"))),
        BUYER,
        "Accept a proposed substitute for your order.",
        party=True,
        service=DecideSubstitution,
        fixed={"approve": True},
        then="Approving substitution {substitution_id} — I'll re-plan order {order_id} with it "
        "and tell you.",
    ),
    Command(
        "reject",
        (ORDER, Arg("SUB", "substitution_id", whole("SUB"))),
        BUYER,
        "Turn down a proposed substitute for your order.",
        party=True,
        service=DecideSubstitution,
        fixed={"approve": False},
        then="Rejecting substitution {substitution_id} — order {order_id} waits for a source "
        "to come back.",
    ),
    Command(
        "reweave",
        (ORDER,),
        BUYER,
        "Look again for a way to deliver what is missing from your order.",
        party=True,
        service=Reweave,
        then="Re-planning order {order_id} — I'll tell you what changes.",
    ),
    Command(
        "substitute",
        (
            ORDER,
            Arg("ITEM", "item", word("ITEM")),
            Arg("BY", "by", word("BY")),
            Arg("REASON", "reason", optional=True, rest=True),
        ),
        REGISTERED,
        "Propose another item instead of one an order uses, and why; its buyer decides.",
        party=True,
        service=ProposeSubstitution,
        then="Passing on your proposal of {by} instead of {item} for order {order_id} — its "
        "buyer decides.",
    ),
    Command(
        "hand",
        (
            ORDER,
            Arg("STAGE", "stage", word("STAGE")),
            Arg("PARTICIPANT", "to", word("PARTICIPANT")),
        ),
        COORDINATOR,
        "Give a stage that is not done to another owner; both are told.",
        party=True,
        service=HandStage,
        then="Handing {stage} of order {order_id} to {to} — both are told; I'll confirm in a "
        "moment.",
    ),
    Command(
        "history",
        (ORDER, Arg("AT", "at", moment, optional=True, rest=True)),
        REGISTERED,
        "What happened to an order, who did what, when; with AT (UTC), the order as it was then.",
        party=True,
        read=reads.history,
        shows=View.HISTORY,
        syntax="ORDER [AT]",
    ),
    Command(
        "watch",
        (Arg("TARGET", "target", rest=True),),
        REGISTERED,
        "Hear when an item or a resource is disrupted or back in service.",
        service=Watch,
        then="Setting up alerts for {target} — I'll confirm in a moment.",
    ),
    Command(
        "tasks",
        (),
        REGISTERED,
        "The stages you owe and the plans waiting for your word.",
        read=reads.tasks,
        shows=View.TASKS,
    ),
    Command(
        "orders",
        (Arg("STATE", "state", word("STATE"), optional=True),),
        REGISTERED,
        "Your orders by state, stuck ones first (a coordinator: every order); STATE narrows it.",
        read=reads.orders,
        shows=View.ORDERS,
    ),
    Command(
        "risk",
        (ORDER,),
        REGISTERED,
        "How likely an order is to go wrong, where, and what it hangs on.",
        party=True,
        read=reads.risk,
        shows=View.RISK,
    ),
    *(
        Command(
            name,
            (Arg("WORDS", "words", rest=True),),
            REGISTERED,
            text,
            step=read_back,
            question=Question(0, ask, example),
        )
        for name, read_back, text, ask, example in (
            (
                "offer",
                steps.offer,
                "Offer the network something you can provide; I read it back before it goes out.",
                "What do you offer, how much, and where?",
                "3d printing 10 h/week near Baltimore",
            ),
            (
                "request",
                steps.request,
                "Ask the network for something; offers that fit are matched to it.",
                "What do you need, how many, and by when?",
                "face-shield 200 by 2026-12-20",
            ),
            (
                "propose",
                steps.propose,
                "Propose doing something together; I gather who can join.",
                "What do you propose, and what does it need?",
                "sewing 40 h near San Juan",
            ),
        )
    ),
    Command(
        steps.CAST,
        (),
        REGISTERED,
        "Send out the offer, request or proposal I read back to you.",
        step=steps.cast,
        said_as=frozenset(
            {"yes", "y", "ok", "okay", "cast", "cast it", "send", "send it", "sí", "si"}
        ),
    ),
    Command(
        "intents",
        (),
        REGISTERED,
        "Your offers, requests and proposals, and how they stand.",
        read=reads.intents,
        shows=View.INTENTS,
    ),
    Command(
        "edit",
        (Arg("INTENT", "intent_id", whole("INTENT")), Arg("WORDS", "words", rest=True)),
        REGISTERED,
        "Change one of your offers, requests or proposals.",
        service=EditIntent,
        then="Changing intent {intent_id} — I'll read it back and look for matches again.",
    ),
    Command(
        "withdraw",
        (Arg("INTENT", "intent_id", whole("INTENT")),),
        REGISTERED,
        "Take back one of your offers, requests or proposals.",
        service=WithdrawIntent,
        then="Withdrawing intent {intent_id} — its matches no longer hold.",
    ),
    Command(
        "matches",
        (),
        REGISTERED,
        "Offers and requests that match yours, with what each covers.",
        read=reads.matches,
        shows=View.MATCHES,
    ),
    Command(
        "accept",
        (Arg("MATCH", "match_id", whole("MATCH")),),
        REGISTERED,
        "Accept a match: your side of it becomes a commitment.",
        service=AcceptMatch,
        tried=False,
        then="Accepting match {match_id} — I'll tell you and the others what it becomes.",
    ),
    Command(
        "used",
        (Arg("ITEM", "item"), Arg("QTY", "quantity")),
        REGISTERED,
        "Say you used some of what a standing order brings; I order it again.",
        service=ReportUse,
        tried=False,
        then="Noting that you used {quantity} × {item} — I'll order it again for you.",
        grammar=grammars.used,
        syntax="ITEM QTY",
    ),
)

BY_NAME: dict[str, Command] = {command.name: command for command in COMMANDS}
