"""Which loaded module a reference means, decided once every file is read.

A LOSH sBoM names another module by its repository URL (a MOSH row), an OKH v1 manifest by its
manifest's URL (`sub-parts`, formerly `sub`). One file alone cannot know whether that module is
loaded too, nor which of its loaded releases the reference means; `resolve` decides, before the
fragments are assembled:

- Releases coexist. The newest release of a module keeps the module's ids, so an order for
  `github.com/o/r` gets the newest, as a reference that pins nothing does. Each older release
  is addressed by its version: `github.com/o/r@1.0.1`, its parts `github.com/o/r@1.0.1/clamp-ring`,
  their designs `okh:github.com/o/r@1.0.1` and so on. Two releases with one version (or none)
  are one module declared twice: that clash is left to `assemble`, which reports it.
- A reference that pins a loaded version (a tag) uses it, else the newest loaded; when there
  was a choice, or the pin names a version that is not loaded, one warning per module and pin
  says which release is used.
- A module referenced but not loaded is external: one warning per module, at its first
  reference, says its item has no source until someone offers it or its files are loaded.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

from core.network.assemble import Fragment, ModuleReference, ModuleRelease
from core.network.diagnostics import warning

try:  # the versions Python packages use (PEP 440) order "1.0.0rc1" before "1.0.0"
    from packaging.version import InvalidVersion, Version
except ImportError:  # pragma: no cover - packaging comes with pip and pytest
    Version = None  # type: ignore[assignment,misc]

_COMMIT = re.compile(r"^[0-9a-f]{7,40}$", re.IGNORECASE)

_Loaded = tuple[ModuleRelease, Fragment]


def resolve(fragments: list[Fragment]) -> None:
    """Point every module reference at the loaded release it means, and give older releases
    their versioned ids; the fragments are changed in place, diagnostics added to them."""
    releases = _releases(fragments)
    renames: dict[int, dict[str, str]] = defaultdict(dict)
    moved: dict[int, list[tuple[str, str]]] = defaultdict(list)  # own prefix -> versioned
    item_of: dict[int, str] = {}  # id(release) -> the item its design makes, once renamed
    for found in releases.values():
        newest = found[-1][0]
        for release, fragment in found:
            item_of[id(release)] = release.item
            if release is newest or not release.owns or not release.version:
                continue
            if release.version == newest.version:
                continue  # one module declared twice: assemble says so
            versioned = f"{release.owns}@{_id_version(release.version)}"
            moved[id(fragment)].append((release.owns, versioned))
            item_of[id(release)] = _move(release.item, release.owns, versioned)
    made = {d.makes for f in fragments for d in f.designs}
    offered = {o.item for f in fragments for o in f.offers}
    external: dict[str, list[tuple[ModuleReference, Fragment]]] = defaultdict(list)
    chosen: dict[tuple[str, str | None], list[tuple[ModuleReference, Fragment]]] = defaultdict(list)
    for fragment in fragments:
        for reference in fragment.references:
            if reference.module in releases:
                chosen[reference.module, reference.pin].append((reference, fragment))
            elif reference.item not in made and reference.item not in offered:
                external[reference.module].append((reference, fragment))
    for (module, pin), uses in chosen.items():
        release, note = _choose(releases[module], pin)
        target = item_of[id(release)]
        for reference, fragment in uses:
            if target != reference.item:
                renames[id(fragment)][reference.item] = target
        if note:
            reference, fragment = uses[0]
            fragment.diagnostics.append(
                warning(
                    f"{reference.what} {note}{_also(uses)}",
                    reference.origin.file,
                    reference.origin.line,
                    reference.field,
                )
            )
    for module, uses in external.items():
        reference, fragment = uses[0]
        fragment.diagnostics.append(
            warning(
                f"external module {module} (not loaded): its item has no source until it is "
                f"offered or loaded{_also(uses)}",
                reference.origin.file,
                reference.origin.line,
                reference.field,
            )
        )
    for fragment in fragments:
        exact, prefixes = renames.get(id(fragment), {}), moved.get(id(fragment), [])
        if exact or prefixes:
            _rename(fragment, exact, prefixes)


def _releases(fragments: list[Fragment]) -> dict[str, list[_Loaded]]:
    """module -> its loaded releases, oldest first (those without a version before any)."""
    found: dict[str, list[_Loaded]] = defaultdict(list)
    for fragment in fragments:
        for release in fragment.modules:
            found[release.module].append((release, fragment))
    ordered = {}
    for module, loaded in found.items():
        unknown = [pair for pair in loaded if not pair[0].version]
        known = [pair for pair in loaded if pair[0].version]
        key = _version_key([r.version for r, _ in known if r.version])
        ordered[module] = unknown + sorted(known, key=lambda pair: key(pair[0].version or ""))
    return ordered


def _version_key(versions: list[str]) -> Callable[[str], object]:
    """How to order these versions: as Python packages do when every one of them reads so
    ("v1.0.2", "1.1.0rc1"), else by the numbers in them ("2021-06 draft 3")."""
    if Version is not None:
        try:
            parsed = {v: Version(v) for v in versions}
        except InvalidVersion:
            pass
        else:
            return lambda v: parsed[v]
    return lambda v: (tuple(int(n) for n in re.findall(r"\d+", v)), v)


def _choose(loaded: list[_Loaded], pin: str | None) -> tuple[ModuleRelease, str | None]:
    """The release a reference with this pin uses, and what to say about the choice."""
    newest = loaded[-1][0]
    releases = [release for release, _ in loaded]
    names = ", ".join(r.version or "one without a version" for r in releases)
    if newest.owns is None:
        return newest, None  # its releases make one item: there is nothing to choose
    matching = [r for r in releases if pin and r.version and _same_version(pin, r.version)]
    if matching:
        release = matching[-1]
        if len(releases) == 1:
            return release, None
        return release, f"pins {pin}: {release.version} is used, of the loaded {names}"
    if pin is None:
        if len(releases) == 1:
            return newest, None
        return newest, f"pins no version: it uses {newest.version}, the newest of {names}"
    if not newest.version or (len(releases) == 1 and _COMMIT.match(pin)):
        return newest, None  # which release a commit is, the files do not say
    what = f"commit {pin[:7]}" if _COMMIT.match(pin) else pin
    if len(releases) == 1:
        return newest, f"pins {what}, which is not the loaded version: {newest.version} is used"
    return newest, (
        f"pins {what}, which is no loaded version: the newest loaded, {newest.version}, is used"
    )


def _same_version(pin: str, version: str) -> bool:
    """A tag names a version: `v1.0.2`, `1.0.2` and `ohloom-1.0.2` all name 1.0.2."""
    tag, wanted = pin.strip().casefold(), version.strip().casefold().removeprefix("v")
    bare = tag.removeprefix("v")
    return bare == wanted or re.search(rf"[-_/]v?{re.escape(wanted)}$", tag) is not None


def _id_version(version: str) -> str:
    return re.sub(r"[^0-9A-Za-z.+_-]+", "-", version.strip()).strip("-") or "unnamed"


def _also(uses: list) -> str:
    others = len(uses) - 1
    return "" if not others else f" (and {others} more reference{'s' if others > 1 else ''})"


def _move(item_id: str, owns: str, versioned: str) -> str:
    # A design is named after the item it makes, `okh:` first (core/importers/okh_losh.py).
    for prefix in ("", "okh:"):
        if item_id == prefix + owns or item_id.startswith(prefix + owns + "/"):
            return prefix + versioned + item_id[len(prefix + owns) :]
    return item_id


def _rename(fragment: Fragment, exact: dict[str, str], prefixes: list[tuple[str, str]]) -> None:
    referenced = {r.item for r in fragment.references}

    def renamed(item_id: str) -> str:
        if item_id in exact:
            return exact[item_id]
        if item_id in referenced:
            return item_id  # another module's, even when it shares this one's prefix
        for owns, versioned in prefixes:
            item_id = _move(item_id, owns, versioned)
        return item_id

    items = []
    for item in fragment.items:
        new_id = renamed(item.id)
        # An item named by its id (a MOSH row's) is named by its new id, so that the name of
        # the module's own manifest wins when the items merge.
        name = new_id if item.name == item.id else item.name
        items.append(item if new_id == item.id else replace(item, id=new_id, name=name))
    fragment.items = items
    fragment.designs = [
        replace(
            design,
            id=renamed(design.id),
            makes=renamed(design.makes),
            inputs=tuple(_summed((renamed(i), n) for i, n in design.inputs)),
        )
        for design in fragment.designs
    ]
    fragment.id_fields = {renamed(k): v for k, v in fragment.id_fields.items()}


def _summed(pairs) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for item_id, count in pairs:
        totals[item_id] = totals.get(item_id, 0) + count
    return list(totals.items())
