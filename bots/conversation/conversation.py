"""The conversation: one chat message in, the reply out — the same on every platform.

Each message goes once through one pipeline, one function a step:

1. let in: not too fast, not too long, not empty;
2. who is speaking: the participant the account speaks for, looked up once;
3. what it asks: a command parsed against the declarations (parsing.py), or a plain answer to
   the question pending for the account (flows.py; read at most once);
4. may they: who may use the command, its declared condition, an order's parties — checked
   once, in access.py;
5. carry it out: a change goes to `submit` (changes.py; in production
   `workers.actors.Actors.take_in`: the command is kept, then a worker carries it out) and the
   reply says what happens next; a read answers from the queries and writes nothing
   (reads.py); a step of the conversation keeps or forgets the account's pending step
   (steps.py); /join and /register are carried out here and answered with their outcome
   (enrolment.py); a command that stopped short asks for the rest, or says what is wrong.

`answer` never raises, and input that is not understood changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from bots.conversation import access, photos, views
from bots.conversation.changes import Submit, hand_over
from bots.conversation.declaration import Command
from bots.conversation.declarations import BY_NAME
from bots.conversation.enrolment import enrol
from bots.conversation.flows import Flow, Pending
from bots.conversation.messages import Incoming, Reply
from bots.conversation.parsing import Parsed, Problem, is_command, parse, storable
from bots.conversation.rate_limit import RateLimiter
from bots.conversation.settings import ChatSettings, invite_days_from_environment
from bots.conversation.turn import Person, Submitting, Turn, who_speaks
from core.service import evidence
from core.service.bus import Services
from core.service.commands import AssertStage
from core.service.results import Result
from workers.metrics import MESSAGES_IN

log = logging.getLogger(__name__)

MAX_INPUT = 4000
COMMANDS_PLEASE = (
    "I understand commands: /help lists them, /tasks shows what waits for you, "
    "and /say ORDER … talks to an order's parties."
)


@dataclass(frozen=True)
class Request:
    """One message, understood."""

    command: Command  # as typed, or as the pending question began it
    does: Command  # what it does: the command itself, or what it is alone
    values: Mapping = field(default_factory=dict)
    problem: Problem | None = None  # it stopped short or is wrong
    asking: bool = False  # the rest is asked for: the command's question begins a flow
    given: str = ""  # what was typed after the command, kept with the question


class ChatConversation:
    """The `Conversation` every adapter talks to.

    `on_result` receives the result of the commands carried out here (/join, /register), so
    that their messages are delivered at once (in production `workers.actors.deliver_results`);
    without it the outbox sweeper sends them a little later.
    """

    def __init__(
        self,
        services: Services,
        submit: Submit,
        *,
        limiter: RateLimiter | None = None,
        on_result: Callable[[Result], None] | None = None,
        invite_days: int | None = None,
    ):
        self.services = services
        self.submit = submit
        self.limiter = limiter or RateLimiter()
        self.on_result = on_result
        # How long the codes of /invite work: given, or SCIS_INVITE_DAYS (read here, at start,
        # so that a bad value stops `scis serve` instead of refusing every /invite later).
        self.settings = ChatSettings(invite_days=invite_days or invite_days_from_environment())

    def answer(self, incoming: Incoming) -> list[Reply]:
        MESSAGES_IN.labels(incoming.platform).inc()  # every adapter hands its messages in here
        try:
            return [self._answer(incoming)]
        except Exception:
            # The text is not logged: it may hold what a person would not want in a log.
            log.exception("could not answer %s message %s", incoming.platform, incoming.message_id)
            return [views.reply("Sorry — something went wrong on my side. Please try again soon.")]

    def _answer(self, incoming: Incoming) -> Reply:
        if incoming.photo is not None:
            return self._photo(incoming)
        text = self._let_in(incoming)
        if isinstance(text, Reply):
            return text
        person = who_speaks(self.services, incoming)
        flow = Flow(self.services.engine, incoming.platform, incoming.address, self.services.clock)
        request = self._understand(text, person, flow)
        if isinstance(request, Reply):
            return request
        refused = self._refusal(incoming, person, request)
        if refused is not None:
            return refused
        return self._carry_out(incoming, person, flow, request)

    # -- 1. let in -----------------------------------------------------------------------------

    def _let_in(self, incoming: Incoming) -> str | Reply:
        """The text to read, or why the message is turned away."""
        if not self.limiter.allow((incoming.platform, incoming.address)):
            wait = self.limiter.wait((incoming.platform, incoming.address))
            return views.reply(
                "You are sending messages faster than I can keep up — please wait "
                f"{wait} second{'s' if wait != 1 else ''} and send that again."
            )
        text = incoming.text or ""
        if len(text) > MAX_INPUT:
            return views.reply(
                f"That message is too long ({len(text):,} characters; at most "
                f"{MAX_INPUT:,}). Please send a shorter one."
            )
        text = storable(text).strip()
        if not text:
            return views.reply("I got an empty message. /help lists what I can do.")
        return text

    # -- 3. what it asks -----------------------------------------------------------------------

    def _understand(self, text: str, person: Person | None, flow: Flow) -> Request | Reply:
        if is_command(text):
            return self._request(parse(text), person, text)
        if person is None:
            return views.reply(f"Hello! {views.JOIN_HINT} /help lists what I can do.")
        step = flow.pending()
        if step is None:
            return views.reply(COMMANDS_PLEASE)
        return self._answering(step, text, person, flow)

    def _answering(self, step: Pending, text: str, person: Person, flow: Flow) -> Request | Reply:
        """A plain message while a question is pending: the rest of the command it began (or,
        for a step said in plain words, the command itself)."""
        command = BY_NAME.get(step.command)
        if command is not None and text.lower().rstrip("!.") in command.said_as:
            return Request(command, command)
        if command is None or command.question is None:
            flow.clear()
            return views.reply(COMMANDS_PLEASE)
        parsed = parse(f"/{command.name} {step.given} {text}")
        if isinstance(parsed, Problem):
            example = command.question.example_in(self.services)
            return views.reply(f"{parsed.sentence}. For example: {example} — or /cancel.")
        flow.clear()
        return self._request(parsed, person, text)

    def _request(self, parsed: Parsed | Problem, person: Person | None, text: str):
        if isinstance(parsed, Parsed):
            command, values = parsed.command, parsed.values
            alone = command.alone is not None and command.is_alone(values)
            return Request(command, command.alone if alone else command, values)
        command = parsed.command
        if command is None:
            return views.reply(parsed.text)
        if command.bare is not None and parsed.given == 0 and not text.split()[1:]:
            return Request(command.bare, command.bare)
        question = command.question
        asking = question is not None and parsed.given == question.after and person is not None
        words = text.split(maxsplit=1)
        given = words[1] if len(words) > 1 else ""
        return Request(command, command, parsed.values, parsed, asking, given)

    # -- 4. may they ---------------------------------------------------------------------------

    def _refusal(self, incoming: Incoming, person: Person | None, request: Request):
        check = access.Check(
            self.services, self.settings, incoming, person, request.does, request.values
        )
        said_wrong = request.problem is not None and not request.asking
        return access.refusal(check, request.command, only_who=said_wrong)

    # -- 5. carry it out -----------------------------------------------------------------------

    def _carry_out(
        self, incoming: Incoming, person: Person | None, flow: Flow, request: Request
    ) -> Reply:
        if request.problem is not None:
            return self._ask(flow, request) if request.asking else views.reply(request.problem.text)
        does, values = request.does, request.values
        if does.read is not None:
            return does.read(Turn(self.services, person, values))
        if does.step is not None:
            return does.step(Turn(self.services, person, values), flow, self._submit(incoming))
        if does.enrols:
            return enrol(self.services, self.on_result, incoming, does, values)
        if does.names is not None:  # names read as ids, or what the person may have meant
            values = does.names(Turn(self.services, person, values))
            if isinstance(values, Reply):
                return values
        origin = {"platform": incoming.platform, "message_id": incoming.message_id}
        if does.service is AssertStage:
            return self._assert(incoming, person, flow, does, values, origin)
        return hand_over(
            self.services, self.settings, self._submit(incoming), person, does, values, origin
        )

    # -- a photo proves a stage (photos.py) --------------------------------------------------------

    def _photo(self, incoming: Incoming) -> Reply:
        """A photo: the assertion its caption makes, the photo its evidence; with no caption
        (or plain words), the question which of the sender's open stages it proves."""
        let_in = self._let_in(replace(incoming, text=incoming.text or "photo"))
        if isinstance(let_in, Reply):
            return let_in
        person = who_speaks(self.services, incoming)
        if person is None:
            return views.reply(f"Hello! {views.JOIN_HINT}")
        if (large := photos.too_large(incoming.photo)) is not None:
            return large
        flow = Flow(self.services.engine, incoming.platform, incoming.address, self.services.clock)
        caption = storable(incoming.text or "").strip()
        if not is_command(caption):
            return photos.ask_which_stage(self.services, person, incoming, flow)
        request = self._request(parse(caption), person, caption)
        if isinstance(request, Reply):
            return request
        if request.does.service is not AssertStage:
            if request.does is BY_NAME["done"].bare:  # "/done" alone: which stage, then?
                return photos.ask_which_stage(self.services, person, incoming, flow)
            return photos.not_an_assertion()
        refused = self._refusal(incoming, person, request)
        if refused is not None:
            return refused
        if request.problem is not None:  # its question would forget the photo: say it all
            return views.reply(request.problem.text)
        return self._carry_out(incoming, person, flow, request)

    def _assert(self, incoming, person, flow, does, values, origin) -> Reply:
        """A stage asserted, with the photo this message carries, or the one pending for the
        account, as its evidence. A photo whose assertion is refused is not kept; a pending
        one waits on for another stage."""
        fresh = incoming.photo is not None
        picture = photos.keep(self.services, person, incoming) if fresh else photos.pending(flow)
        if picture is not None:
            values = {**values, "picture": picture}
        submitted: list[type] = []

        def submit(command: type, arguments: dict) -> int:
            submitted.append(command)
            return self._submit(incoming)(command, arguments)

        reply = hand_over(self.services, self.settings, submit, person, does, values, origin)
        if picture is None:
            return reply
        if not submitted:
            if fresh:
                evidence.forget(self.services, picture)
            return reply
        if not fresh:
            flow.clear()
        return replace(reply, text=f"{reply.text} Your photo goes with it as evidence.")

    def _ask(self, flow: Flow, request: Request) -> Reply:
        """Begin the command's flow: the person's next plain message is the rest of it."""
        command, problem = request.command, request.problem
        if not flow.begin(Pending(command.name, request.given)):
            return views.reply(problem.text)
        question = command.question.text.format(**problem.values)
        example = command.question.example_in(self.services)
        return views.reply(f"{question} For example: {example} (or /cancel).")

    def _submit(self, incoming: Incoming) -> Submitting:
        """This message's way to hand a change to `submit`."""
        return lambda command, arguments: self.submit(
            incoming.platform, incoming.message_id, command, arguments
        )
