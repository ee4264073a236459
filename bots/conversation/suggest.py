"""Did you mean: what a person typed read against what there is — commands, items, resources
and participants — by id or by name, in any case, with or without accents, and when nothing
fits, what is most like it. One helper for every command (the likeness itself is
core.intents.resources.close, which core's own refusals use too).

The `names` step of a declaration (`Command.names`) is a function here: given the turn, it
gives back the values with the names read as the ids core takes, or the reply that says what
the person may have meant. It reads and writes nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlmodel import Session, select

from bots.conversation import views
from bots.conversation.messages import Reply
from bots.conversation.turn import Turn
from core.intents.resources import close, item_named, key_of
from core.network.model import Network
from core.service import records
from core.service.disruptions import resource_name
from core.store.tables import ParticipantRow


def hint(text: str, names: Iterable[str], shown=str) -> str:
    """ " — did you mean X?" (or "X or Y"), or nothing when nothing is alike."""
    alike = close(text, names)
    return f" — did you mean {' or '.join(shown(n) for n in alike)}?" if alike else ""


def command(name: str, names: Iterable[str]) -> str:
    """The hint for a command no one declared: /oder → " — did you mean /order?"."""
    return hint(name, names, lambda n: f"/{n}")


# -- resources: what /disrupt, /restore and /watch name ---------------------------------------


def _resources(network: Network) -> dict[str, str]:
    """Every resource a person may signal, by each way of naming it → its id."""
    named: dict[str, str] = {}
    for table in (network.facilities, network.offers, network.participants):
        for rid, record in table.items():
            named.setdefault(rid, rid)
            if getattr(record, "name", None):
                named.setdefault(record.name, rid)
    return named


def _label(network: Network, rid: str) -> str:
    """What people call the resource, its id in brackets: the id is what /restore takes."""
    name = resource_name(network, rid)
    return f"{name} ({rid})" if name != rid else rid


def _whole(turn: Turn, read) -> object:
    """`read(network)` over the network as loaded, out-of-service resources included (one that
    is out of service is what /restore names)."""
    services = turn.services

    def run(session: Session):
        version = records.network_version(session)
        return read(services.network_at(session, version) if version else Network())

    return services.read(run)


def _prefix(words: list[str], named: Mapping[str, str]) -> tuple[str, int] | None:
    """The resource the longest run of first words names, and how many words it took."""
    by_key = {key_of(name): rid for name, rid in named.items()}
    for count in range(len(words), 0, -1):
        said = " ".join(words[:count])
        if said in named.values():
            return said, count
        if (rid := by_key.get(key_of(said))) is not None:
            return rid, count
    return None


def _theirs(network: Network, participant: str) -> list[str]:
    """The resources a participant runs: facilities, offers, and themselves as a supplier."""
    mine = [f for f, fac in network.facilities.items() if fac.operator == participant]
    mine += [o for o, offer in network.offers.items() if offer.supplier == participant]
    return mine + ([participant] if participant in network.participants else [])


def _unknown(network: Network, turn: Turn, words: list[str], usage: str) -> Reply:
    """What the first words may have meant (the longest run that looks like a resource), or
    the resources the person runs."""
    named = _resources(network)
    for count in range(len(words), 0, -1):
        said = " ".join(words[:count])
        if alike := close(said, named):
            shown = " or ".join(dict.fromkeys(_label(network, named[n]) for n in alike))
            return views.reply(f"I don't know {said[:40]!r}. Did you mean {shown}? {usage}")
    yours = _theirs(network, turn.person.id)
    listed = "; ".join(_label(network, r) for r in yours[:8]) or "none in this network"
    return views.reply(f"I don't know {words[0][:40]!r}. The resources you run: {listed}. {usage}")


def disrupted(turn: Turn) -> Mapping | Reply:
    """/disrupt RESOURCE REASON: the resource by id or by name, the reason what follows it."""
    values = dict(turn.values)
    words = [values["resource"], *values.get("reason", "").split()]

    def read(network: Network) -> Mapping | Reply:
        found = _prefix(words, _resources(network))
        if found is None:
            return _unknown(network, turn, words, "Usage: /disrupt ID REASON")
        rid, count = found
        reason = " ".join(words[count:])
        if not reason:
            return views.reply(f"What happened to {_label(network, rid)}? /disrupt {rid} REASON")
        return {**values, "resource": rid, "reason": reason, "named": _label(network, rid)}

    return _whole(turn, read)


def restored(turn: Turn) -> Mapping | Reply:
    """/restore RESOURCE: by id or by name."""
    values = dict(turn.values)

    def read(network: Network) -> Mapping | Reply:
        words = values["resource"].split()
        found = _prefix(words, _resources(network))
        if found is None or found[1] != len(words):
            return _unknown(network, turn, words, "Usage: /restore ID")
        return {**values, "resource": found[0], "named": _label(network, found[0])}

    return _whole(turn, read)


def watched(turn: Turn) -> Mapping | Reply:
    """/watch TARGET: an item (read as /order reads it) or a resource, by id or by name."""
    values = dict(turn.values)
    target = values["target"]

    def read(network: Network) -> Mapping | Reply:
        item = item_named(network, target)
        if item is not None:
            return {**values, "target": item.id, "named": item.name}
        found = _prefix(target.split(), _resources(network))
        if found is not None and found[1] == len(target.split()):
            return {**values, "target": found[0], "named": _label(network, found[0])}
        things = {**_resources(network), **{i.name: i.id for i in network.items.values()}}
        things.update({i: i for i in network.items})
        alike = close(target, things)
        if alike:
            shown = " or ".join(dict.fromkeys(_thing(network, things[n]) for n in alike))
            return views.reply(f"I don't know {target[:40]!r}. Did you mean {shown}?")
        return views.reply(
            f"I don't know {target[:40]!r}: /watch takes an item (/catalog lists them) "
            "or a facility, offer or supplier."
        )

    return _whole(turn, read)


def _thing(network: Network, tid: str) -> str:
    item = network.items.get(tid)
    return f"{item.name} [{tid}]" if item is not None else _label(network, tid)


# -- participants: whom /hand gives a stage to ------------------------------------------------


def handed(turn: Turn) -> Mapping | Reply:
    """/hand ORDER STAGE PARTICIPANT: the participant by id or by name (anyone who has joined,
    not only the network's)."""
    values = dict(turn.values)
    said = values["to"]

    def read(session: Session) -> Mapping | Reply:
        rows = session.exec(select(ParticipantRow)).all()
        names = {row.id: row.name or row.id for row in rows}
        people = {**{row.id: row.id for row in rows}, **{row.name: row.id for row in rows}}
        found = _prefix(said.split(), people)
        if found is not None and found[1] == len(said.split()):
            return {**values, "to": found[0], "named": names[found[0]]}
        shown = hint(said, people, lambda n: f"{names[people[n]]} [{people[n]}]")
        return views.reply(f"I don't know anyone called {said[:40]!r}{shown}.")

    return turn.services.read(read)
