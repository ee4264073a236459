"""The steps of the conversation itself: what a command does to the account's pending step
(flows.py) rather than to the world. /cancel alone forgets the question asked; /offer, /request
and /propose read an intent back and keep it, pending, for /cast, which sends it out. Each is a
function of a `Turn`, the account's `Flow` and a way to submit this message's change."""

from __future__ import annotations

from bots.conversation import views
from bots.conversation.flows import Flow, Pending
from bots.conversation.messages import Reply
from bots.conversation.next_steps import refusal_text
from bots.conversation.turn import Submitting, Turn
from core.service.commands import CastIntent
from core.service.intents import Unclear, preview
from core.service.results import Refused

# The declaration that sends a read-back intent out: the pending step keeps its name.
CAST = "cast"

# What works, shown after words that could not be read as an intent of that kind.
EXAMPLES = {
    "offer": "/offer 3d printing 10 h/week near San Juan",
    "request": "/request face-shield 200 by 2026-12-20",
    "proposal": "/propose sewing masks 200/week until Jan 31 -- a weekend sewing circle",
}


def forget(turn: Turn, flow: Flow, submit: Submitting) -> Reply:
    if flow.clear():
        return views.reply("All right, forgotten. /help lists what you can do.")
    return views.reply("There was nothing to cancel. /help lists what you can do.")


def offer(turn: Turn, flow: Flow, submit: Submitting) -> Reply:
    return _read_back(turn, flow, "offer")


def request(turn: Turn, flow: Flow, submit: Submitting) -> Reply:
    return _read_back(turn, flow, "request")


def propose(turn: Turn, flow: Flow, submit: Submitting) -> Reply:
    return _read_back(turn, flow, "proposal")


def _read_back(turn: Turn, flow: Flow, kind: str) -> Reply:
    """Read the intent back in structured form; /cast (or its button) sends it out."""
    services, person, words = turn.services, turn.person, turn.values["words"]
    try:
        shown = services.read(lambda session: preview(services, session, kind, person.id, words))
    except Refused as refusal:
        # Here, not at the top: the hint reads the declarations, which name these steps.

        said = refusal_text(refusal)
        if isinstance(refusal, Unclear):
            said += f" (e.g. {EXAMPLES[kind]})"
        return views.reply(f"{said[0].upper()}{said[1:]}")
    if not flow.begin(Pending(CAST, f"{kind} {words}")):
        return views.reply("I can't keep that for you here; please try a shorter message.")
    return views.intent_preview(shown)


def cast(turn: Turn, flow: Flow, submit: Submitting) -> Reply:
    step = flow.pending()
    if step is None or step.command != CAST:
        return views.reply("There is nothing to cast. /offer, /request or /propose first.")
    flow.clear()
    kind, words = step.given.split(" ", 1)
    submit(CastIntent, {"actor": turn.person.id, "kind": kind, "words": words})
    return views.reply(f"Sending your {kind} out — I'll tell you its number and any match.")
