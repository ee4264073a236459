"""Runs one command in one transaction: its state changes, its events and its outbox messages are
committed together, or — when the command is refused — nothing but the refusal is recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, select

from core.network.model import Network
from core.network.snapshot import from_document
from core.service.notices import Notice, Rendered
from core.service.results import Outbound, Recorded, Refused, Result
from core.store.appends import Appends, LoggedEvent
from core.store.tables import Disruption, NetworkVersion, now
from core.store.unit_of_work import UnitOfWork

Handler = Callable[[Any, "Context"], Any]

# Bounds on what a person may type into a field (ARCHITECTURE.md, Limits).
MAX_TEXT = 1000
MAX_ID = 120
MAX_MESSAGE = 4000


# The order and the participant the command being handled is about, for every line logged
# meanwhile (bots/logs.py puts them on each record); a nested command adds what it knows.
concerning: ContextVar[Mapping[str, object]] = ContextVar(
    "scis_concerning", default=MappingProxyType({})
)


@contextmanager
def about(**fields: object) -> Iterator[None]:
    """`with about(order_id=12, participant="ana"):` what follows concerns them (None: not
    known here, the outer value stays)."""
    known = {name: value for name, value in fields.items() if value is not None}
    token = concerning.set({**concerning.get(), **known})
    try:
        yield
    finally:
        concerning.reset(token)


def _subject(command) -> dict[str, object]:
    """A command's order and participant; a chat command kept by Receive has them in its
    arguments."""
    fields = getattr(command, "arguments", None)
    if isinstance(fields, dict):
        return {"order_id": fields.get("order_id"), "participant": fields.get("actor")}
    return {
        "order_id": getattr(command, "order_id", None),
        "participant": getattr(command, "actor", None),
    }


class Context:
    """What a handler may use: the session, the clock, the network as it is now, and the
    means to record events and queue messages."""

    def __init__(self, session: Session, clock: Callable[[], datetime], services: Services):
        self.session = session
        self.clock = clock
        self.services = services
        self.result = Result()
        self.appends = Appends(session)  # the events and messages, written in bulk
        self._network: Network | None = None

    @property
    def now(self) -> datetime:
        return self.clock()

    def record(
        self,
        kind: str,
        data: dict,
        order_id: int | None = None,
        actor: str | None = None,
        origin=None,
    ) -> LoggedEvent:
        self.result.events.append(Recorded(kind, data, order_id, actor))
        return self.appends.event(
            {
                "at": self.now,
                "kind": kind,
                "actor_id": actor,
                "order_id": order_id,
                "platform": getattr(origin, "platform", None),
                "message_id": getattr(origin, "message_id", None),
                "data": data,
            }
        )

    def tell(
        self,
        participant_id: str,
        kind: str,
        text: str,
        order_id: int | None = None,
        payload: dict | None = None,
        outcome: bool = False,
    ) -> None:
        """Queue a message to a participant; `outcome`: it says how their command ended."""
        if outcome:
            payload = {**(payload or {}), "outcome": True}
        if len(text) > MAX_MESSAGE:  # chat platforms cap a message near 4,096 characters
            text = text[: MAX_MESSAGE - 14] + " … (shortened)"
        message = Outbound(participant_id, kind, text, order_id, dict(payload or {}))
        self.result.messages.append(message)
        self.appends.notification(
            {
                "participant_id": participant_id,
                "order_id": order_id,
                "kind": kind,
                "text": text,
                "payload": message.payload,
                "created_at": self.now,
            }
        )

    def notify(
        self,
        participant_id: str,
        notice: Notice,
        order_id: int | None = None,
        *,
        outcome: bool = False,
    ) -> None:
        """Queue a notice to a participant, in the words the chat layer gives it (see
        core.service.notices); `outcome`: it says how their command ended."""
        rendered = self.services.render(notice)
        self.tell(participant_id, rendered.kind, rendered.text, order_id, rendered.payload, outcome)

    def outcome(
        self,
        participant_id: str,
        text: str,
        order_id: int | None = None,
        payload: dict | None = None,
        kind: str = "outcome",
    ) -> None:
        """The one message that tells the sender of a command how it ended (done, refused, or
        waiting for whom or what). ApplyInbound makes sure a chat command gets exactly one."""
        self.tell(participant_id, kind, text, order_id, payload, outcome=True)

    def told_outcome(self, participant_id: str) -> bool:
        return any(
            m.participant_id == participant_id and m.payload.get("outcome")
            for m in self.result.messages
        )

    def network(self) -> Network:
        """The newest network version without the resources that are out of service."""
        if self._network is None:
            self._network = self.services.current_network(self.session)
        return self._network

    def forget_network(self) -> None:
        self._network = None

    def network_at(self, version: int) -> Network:
        return self.services.network_at(self.session, version)


# Read by every command that asks for the network, in one statement (built once: building a
# statement costs more CPU than running it): the newest version, on a row of each resource out of
# service (or on one row alone). Only the version: its document is read once per process
# (network_at).
_VERSIONS, _DISRUPTIONS = NetworkVersion.__table__, Disruption.__table__
_LATEST = select(func.max(_VERSIONS.c.version).label("version")).subquery()
_NETWORK_NOW = select(
    _LATEST.c.version, _DISRUPTIONS.c.kind, _DISRUPTIONS.c.resource_id
).select_from(_LATEST.outerjoin(_DISRUPTIONS, _DISRUPTIONS.c.restored_at.is_(None)))


class Services:
    """The application: give it commands, get results. Built once per process by the
    composition root (bots/bootstrap.py), which gives it the handler table
    (core/service/handlers.py) and the names of the chat platforms, in delivery preference."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = now,
        *,
        handlers: Mapping[type, Handler],
        platforms: tuple[str, ...],
        checks: Mapping[type, Handler] = MappingProxyType({}),
        render: Callable[[Notice], Rendered],
    ):
        self.engine = engine
        self.clock = clock
        self.handlers = handlers
        self.platforms = platforms
        self.checks = checks  # what a trial runs instead of the handler (see trial)
        self.render = render  # a notice into words: the chat layer's (bots/conversation/notices)
        self._networks: dict[tuple, Network] = {}

    def dispatch(self, command, context: Context):
        """Run `command`'s handler in `context` (a kept chat command runs its inner one so)."""
        handler = self.handlers.get(type(command))
        if handler is None:
            raise TypeError(f"no handler for {type(command).__name__}")
        with about(**_subject(command)):
            return handler(command, context)

    def handle(
        self, command, before_commit: Callable[[Session, Result], None] | None = None
    ) -> Result:
        """Carries `command` out in one transaction, and commits it. `before_commit(session,
        result)`, when given, runs last in that transaction, once the command succeeded (its
        events and messages written): what the caller's own work on them adds to the same
        commit (a worker claims the messages it will send at once)."""
        for attempt in (1, 2):
            with UnitOfWork(self.engine) as uow:
                context = Context(uow.session, self.clock, self)
                try:
                    context.result.value = self.dispatch(command, context)
                except Refused as refusal:
                    uow.rollback()
                    self.record_refusal(command, refusal)
                    raise
                except DBAPIError as error:
                    # A connection the server cut (a restart, a failover): nothing was
                    # committed, and the pool is renewed; once more on a new connection.
                    if attempt == 2 or not error.connection_invalidated:
                        raise
                    continue
                try:
                    if before_commit is not None:
                        context.appends.write()
                        before_commit(uow.session, context.result)
                    uow.commit()
                except IntegrityError:
                    # A twin of this command (the same chat message delivered twice) committed
                    # first; run it again, and it will see the twin's work and do nothing.
                    if attempt == 2:
                        raise
                    continue
                return context.result
        raise AssertionError("unreachable")

    def trial(self, command) -> Refused | None:
        """Whether `command` would be refused now, and why: it is carried out in a transaction
        that is always rolled back, so nothing it did stays and nothing is sent. What a chat
        front end checks before it acknowledges a change, so that no one hears "done in a
        moment" and then a refusal that was knowable. An error other than a refusal is the
        real run's to meet (it has retries and dead letters): None. A command with a check of
        its own (`checks`) runs only that."""
        check = self.checks.get(type(command))
        with UnitOfWork(self.engine) as uow:
            context = Context(uow.session, self.clock, self)
            try:
                if check is not None:
                    check(command, context)
                else:
                    self.dispatch(command, context)
            except Refused as refusal:
                return refusal
            except Exception:  # noqa: BLE001 — see the docstring
                return None
            finally:
                uow.rollback()
        return None

    def read(self, query: Callable[[Session], Any]) -> Any:
        """Run a read-only query in its own session (once more on a new connection when the
        server cut the one it had)."""
        for attempt in (1, 2):
            try:
                with Session(self.engine) as session:
                    return query(session)
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def current_network(self, session: Session) -> Network:
        session.flush()  # a Core read is not preceded by the ORM's autoflush
        rows = session.execute(_NETWORK_NOW).all()
        latest = rows[0].version
        if latest is None:
            return Network()
        down = frozenset((r.kind, r.resource_id) for r in rows if r.kind is not None)
        key = ("now", latest, down)
        if key not in self._networks:
            whole = self.network_at(session, latest)
            self._networks[key] = without_disrupted(whole, key[2])
        return self._networks[key]

    def network_at(self, session: Session, version: int) -> Network:
        """A network version as it was loaded (disruptions aside): what a plan was woven over."""
        key = ("version", version)
        if key not in self._networks:
            row = session.get(NetworkVersion, version)
            if row is None:
                return Network()
            self._networks[key] = from_document(row.document)
        return self._networks[key]

    def record_refusal(self, command, refusal: Refused) -> None:
        """Every refusal is kept, in its own transaction: the refused command changed nothing."""
        with UnitOfWork(self.engine) as uow:
            Context(uow.session, self.clock, self).record(
                "refused",
                {"command": type(command).__name__, "reason": str(refusal)},
                getattr(command, "order_id", None),
                getattr(command, "actor", None),
                getattr(command, "origin", None),
            )
            uow.commit()


def without_disrupted(network: Network, down: frozenset[tuple[str, str]]) -> Network:
    """The network without disrupted facilities and offers, nor what a disrupted person runs."""
    return network.without(
        participants=(r for kind, r in down if kind == "participant"),
        facilities=(r for kind, r in down if kind == "facility"),
        offers=(r for kind, r in down if kind == "offer"),
    )


def bounded(text: str | None, what: str, limit: int = MAX_TEXT) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise Refused(f"{what} is too long ({len(text)} characters; at most {limit})")
    return text
