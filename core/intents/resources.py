"""The network's items and processes as people name them: in any case, with or without accents,
spaces, hyphens or underscores, a last plural word made singular; an item by id, name or alias,
a process (what a facility or design does) by id or, if at least 3 letters long and
unambiguous, by a prefix of it ("3dp", "laser cut"). An offer looks among processes first, a
request or proposal among items first."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

from core.intents.model import ITEM, OFFER, PROCESS, Resource
from core.network.model import Item, Network


def find(words: str, kind: str, network: Network, processes: frozenset[str]) -> Resource | None:
    """The network's item or process these words name, if any."""
    if not words:
        return None
    forms = [words, _singular(words)]
    lookups = [_find_item, _find_process]
    if kind == OFFER:
        lookups.reverse()
    for lookup in lookups:
        found = lookup(forms, network, processes)
        if found is not None:
            return found
    return None


def _find_item(forms: list[str], network: Network, processes: frozenset[str]) -> Resource | None:
    keys = {key_of(form) for form in forms}
    for form in forms:
        if (item := network.find_item(form)) is not None:
            return Resource(ITEM, item.id)
    for item in network.items.values():
        if keys & {key_of(name) for name in (item.id, item.name, *item.aliases)}:
            return Resource(ITEM, item.id)
    return None


def item_named(network: Network, words: str) -> Item | None:
    """The item `words` name, read as forgivingly as a request reads it: its id, name or an
    alias, in any case, with or without accents, spaces or hyphens, the last word plural or
    not ("face shields", "Surgical mask", "N95"). One reader for /order, /used and /request."""
    found = _find_item([words, _singular(words)], network, frozenset()) if words else None
    return network.items[found.id] if found is not None else None


def close(text: str, names: Iterable[str], n: int = 3) -> list[str]:
    """The names most like `text` (a typo, another case, accents left out), best first: what
    "did you mean" offers. A name that contains the text as a whole word counts too
    ("Plásticos" → "Plásticos del Caribe")."""
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(key_of(name), name)
    wanted = key_of(text)
    if not wanted:
        return []
    alike = difflib.get_close_matches(wanted, list(by_key), n=n, cutoff=0.75)
    within = [k for k in by_key if k not in alike and f"-{k}-".find(f"-{wanted}-") >= 0]
    return [by_key[k] for k in [*alike, *within][:n]]


def close_items(network: Network, words: str, n: int = 3) -> list[Item]:
    """The items whose id, name or an alias look most like `words`, best first."""
    named: dict[str, Item] = {}
    for item in network.items.values():
        for name in (item.id, item.name, *item.aliases):
            named.setdefault(name, item)
    found: list[Item] = []
    for form in dict.fromkeys([words, _singular(words)]):
        for name in close(form, named, n):
            if named[name] not in found:
                found.append(named[name])
    return found[:n]


def _find_process(forms: list[str], network: Network, processes: frozenset[str]) -> Resource | None:
    by_key = {key_of(p): p for p in processes}
    for form in forms:
        if key_of(form) in by_key:
            return Resource(PROCESS, by_key[key_of(form)])
    compact = key_of(forms[0]).replace("-", "")
    if len(compact) >= 3:
        starting = [p for k, p in by_key.items() if k.replace("-", "").startswith(compact)]
        if len(starting) == 1:
            return Resource(PROCESS, starting[0])
    return None


def known_processes(network: Network) -> frozenset[str]:
    """What the network can do: every process of a facility or a design."""
    done = [f.processes for f in network.facilities.values()]
    return frozenset().union(*done, *(d.processes for d in network.designs.values()))


def _singular(words: str) -> str:
    head, _, last = words.rpartition(" ")
    low = last.casefold()
    if low.endswith("ies") and len(low) > 4:
        last = last[:-3] + "y"
    elif re.search(r"(?:ch|sh|x|ss)es$", low):
        last = last[:-2]
    elif low.endswith("s") and not low.endswith("ss") and len(low) > 2:
        last = last[:-1]
    return f"{head} {last}" if head else last


def fold(text: str) -> str:
    """Text compared the way people mean it: any case, with or without accents."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def key_of(words: str) -> str:
    """Normalised words: "3D Printing", "3d-printing" and "3d_printing" are all "3d-printing"."""
    return "-".join(re.findall(r"[^\W_]+", fold(words)))
