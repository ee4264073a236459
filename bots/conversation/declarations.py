"""Every chat command, declared once: its arguments with their types, who may use it, its help
text, and what it points at — the command class of core it becomes (with what the person is
told right away), the read that answers it, or a step of the conversation itself.

The parser, /help, the access checks and the flows all read this table; nothing else lists
commands. What one declaration holds, and the checks it passes when it is made, are in
declaration.py.
"""

from __future__ import annotations

from bots.conversation import access, command_table, grammars, photos, reads, steps, suggest, views
from bots.conversation.arguments import (
    Arg,
    due_date,
    order_number,
    page_or_moment,
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
    """The read about this table itself, so it lives here: the commands of the person's roles,
    most used first (`FOR_ROLE`); `/help all` every command they may use; `/help COMMAND` one."""
    roles = turn.person.roles if turn.person else None
    topic = turn.values.get("topic")
    if topic and topic.casefold() == "all":
        return views.help_list(COMMANDS, roles, everything=True)
    if topic:
        return views.help_topic(BY_NAME.get(topic.removeprefix("/").lower()), topic, roles)
    if roles is None:
        return views.help_list(COMMANDS, roles)
    return views.help_list(_for_roles(roles), roles)


# Whom each command is for, beyond who may use it: the commands each role uses, most used
# first. /help shows a person the commands of their roles from this table (a coordinator may
# use every command, but is shown theirs); "" is a participant with no role yet.
FOR_ROLE: dict[str, tuple[str, ...]] = {
    role: tuple(names.split())
    for role, names in {
        "buyer": "order plans choose tasks orders stages say catalog approve history request",
        "maker": "tasks agree done fail quote stages say decline disrupt restore offer matches",
        "supplier": "tasks agree done quote disrupt restore decline say offer matches stages",
        "transporter": "tasks agree done fail say stages decline quote disrupt offer matches",
        "coordinator": "orders invite hand reweave stages history risk say disrupt restore tasks",
        "": "tasks orders offer request intents matches catalog watch",
    }.items()
}
HELP_COMMANDS = 10  # command lines in /help, so that it fits a phone's screen with its footer


def _for_roles(roles: list[str]) -> list[Command]:
    """The commands of these roles, most used first: each role's first, then each one's second,
    …, so a person with two roles sees the top of both."""
    lists = [FOR_ROLE[r] for r in roles if r in FOR_ROLE] or [FOR_ROLE[""]]
    names: list[str] = []
    for rank in range(max(len(listed) for listed in lists)):
        for listed in lists:
            if rank < len(listed) and listed[rank] not in names:
                names.append(listed[rank])
    return [BY_NAME[name] for name in names][:HELP_COMMANDS]


ORDER = Arg("ORDER", "order_id", order_number)

# What /cancel is alone: forgetting the question asked (not in the table: /cancel is).
FORGET = Command("cancel", (), ANYONE, "Forget my last question.", step=steps.forget)

# /done alone lists the stages the person may say are done, as buttons.
OPEN_STAGES = Command(
    "done",
    (),
    REGISTERED,
    "Your open stages, to press the one that is done.",
    read=photos.open_stages,
)

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
            Arg("by DATE", "due", due_date, optional=True),
        ),
        BUYER,
        "Order something: I find every way the network can deliver it and show the best.",
        service=PlaceOrder,
        fixed={"weave_now": False},
        then="Working on it — I'll message you when your plans are ready.",
        question=Question(
            0, "What would you like, and how many?", "chair 2", example_from=reads.order_example
        ),
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
        "terms",
        (ORDER,),
        REGISTERED,
        "Your whole frame of an order: every price, who sets it, and every party's contacts.",
        party=True,
        read=reads.terms,
        shows=View.TERMS,
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
        bare=OPEN_STAGES,
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
        "Say a resource you run is out of service; its id is in brackets in /terms ORDER.",
        service=Disrupt,
        fixed={"analyse_now": False},
        names=suggest.disrupted,
        then="Recording that {named} is out of service — orders that use it are re-planned "
        "and their parties told.",
        question=Question(1, "What happened to {resource}?", "flooded until Monday"),
    ),
    Command(
        "restore",
        (Arg("RESOURCE", "resource", rest=True),),
        REGISTERED,
        "Say that a resource you run is back in service.",
        service=Restore,
        names=suggest.restored,
        syntax="RESOURCE",
        then="Recording that {named} is back — orders that waited for it are planned again.",
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
            Arg("PARTICIPANT", "to", rest=True),
        ),
        COORDINATOR,
        "Give a stage that is not done to another owner; both are told.",
        party=True,
        service=HandStage,
        names=suggest.handed,
        syntax="ORDER STAGE PARTICIPANT",
        then="Handing {stage} of order {order_id} to {named} — both are told; I'll confirm in a "
        "moment.",
    ),
    Command(
        "history",
        (ORDER, Arg("PAGE or AT", "at", page_or_moment, optional=True, rest=True)),
        REGISTERED,
        "What happened to an order, newest first; PAGE goes back; AT (UTC) shows it as it was.",
        party=True,
        read=reads.history,
        shows=View.HISTORY,
        syntax="ORDER [PAGE or AT]",
    ),
    Command(
        "watch",
        (Arg("TARGET", "target", rest=True),),
        REGISTERED,
        "Hear when an item or a resource is disrupted or back in service.",
        service=Watch,
        names=suggest.watched,
        then="Setting up alerts for {named} — I'll confirm in a moment.",
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
        then="Accepting match {match_id} — I'll tell you and the others what it becomes.",
    ),
    Command(
        "used",
        (Arg("ITEM", "item"), Arg("QTY", "quantity")),
        REGISTERED,
        "Say you used some of what a standing order brings; I order it again.",
        service=ReportUse,
        then="Noting that you used {quantity} × {item} — I'll order it again for you.",
        grammar=grammars.used,
        syntax="ITEM QTY",
    ),
)

BY_NAME: dict[str, Command] = {command.name: command for command in COMMANDS}

if unknown := {n for listed in FOR_ROLE.values() for n in listed} - set(BY_NAME):
    raise ValueError(f"/help lists commands that are not declared: {sorted(unknown)}")

command_table.declare(COMMANDS)
