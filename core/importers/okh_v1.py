"""OKH v1 YAML manifests, with Helpful Engineering's `bom-atoms`, `tool-list-atoms` and
`product-atom`: one manifest is one design making one item.

Where the manifest is silent we say so in a warning and never fill the gap with a guess that
looks like data: quantities not given count as 1 each (said in a warning), a BOM that is only a
link leaves the inputs unknown, and a design whose inputs are unknown is marked as such.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from core.importers import okf_common as okf
from core.importers.bom_table import find_on_disk, read_bom
from core.importers.naming import slug
from core.importers.okh_losh import repo_id, repo_pin
from core.importers.text_file import read_text_file
from core.network.assemble import Fragment, ModuleReference, ModuleRelease
from core.network.diagnostics import Diagnostic, error, warning
from core.network.model import Design, Item, Origin, frozen_mapping
from core.network.processes import names_no_process
from core.network.yaml_source import parse_yaml

name = "okh-v1"

# Besides the manifest version (often left out), keys that only a hardware manifest has.
_OKH_HINTS = frozenset(
    {
        "bom",
        "bom-atoms",
        "design-files",
        "making-instructions",
        "manifest-author",
        "manifest-language",
        "made-independently",
    }
)
_USED = okf.atom_patterns("bom-atoms", "tool-list-atoms", single=("product-atom",)) | {
    ("title",),
    ("bom",),
    ("bom", "*"),
    ("tool-list",),
    ("tool-list", "*"),
    ("design-files",),
    ("design-files", "*", "title"),
}
# What a manifest says it is, most telling first: the project's home, else its documentation.
# Never the file name: most published manifests are all called `okh.yml` or `okh-manifest.yml`.
_IDENTITY_LINKS = ("project-link", "documentation-home")
_LINK = re.compile(r"^(https?://|www\.)\S+$", re.IGNORECASE)
_PATH_LIKE = re.compile(r"^(/|\.{1,2}/|\w+://)|\.\w{2,4}$")
# A design-files entry that says it is files, or points at a document or a shared folder.
_FILE_TITLE = re.compile(
    r"\b(design[- ]?files?|files?|folder|cad|drawings?|patterns?|schematics?|instructions|"
    r"tutorial)\b",
    re.I,
)
_FILE_PATH = re.compile(
    r"\.(pdf|zip|stl|step|stp|dxf|svg|png|jpe?g|f3d|fcstd|scad|kicad_\w+)$|drive\.google\.com"
    r"|/folders?/|dropbox\.com",
    re.IGNORECASE,
)


def recognizes(path: Path) -> bool:
    keys = okf.top_level_keys(path)
    if not keys or (keys & okf.OKW_KEYS and not keys & okf.OKH_ONLY_KEYS):
        return False
    return "okh-manifest-version" in keys or ("title" in keys and bool(keys & _OKH_HINTS))


def read(path: Path) -> Fragment:
    return read_text_file(path, read_text)


def read_text(text: str, source: str) -> Fragment:
    data, parse_diagnostics = parse_yaml(text, source, duplicates_are_errors=False)
    if data is None:
        return Fragment(
            source,
            diagnostics=parse_diagnostics
            or [error("empty file; expected an OKH manifest", source, 1)],
        )
    if not isinstance(data, dict):
        return Fragment(source, diagnostics=[error("an OKH manifest must be a mapping", source, 1)])
    diagnostics, fatal = (
        okf.judge_duplicates(text, source, _USED, naming=frozenset(_IDENTITY_LINKS))
        if parse_diagnostics
        else ([], False)
    )
    fragment = Fragment(source, diagnostics=diagnostics)
    if fatal:
        return fragment
    product = _product(data, source, diagnostics)
    if product is None:
        return fragment
    inputs, input_items, known = _inputs(data, product, source, text, diagnostics)
    processes = okf.processes_from(data, "tool-list-atoms", "tool-list", source, diagnostics)
    if not processes:
        title_line = data.line_of("title") if "title" in data else 1
        diagnostics.append(
            names_no_process("the design (no tool-list or tool-list-atoms)", source, title_line)
        )
    title = okf.clean(data.get("title")) or product.name
    ambiguous = okf.contradicted_keys(text) if parse_diagnostics else set()
    design_id, fields, id_line = _identity(data, product, ambiguous)
    fragment.items = [product, *input_items]
    fragment.id_fields[design_id] = (fields, id_line)
    _declare_module(fragment, data, product, ambiguous, source)
    inputs = _with_sub_parts(fragment, data, dict(inputs), source)
    fragment.designs = [
        Design(
            id=design_id,
            makes=product.id,
            inputs=tuple(inputs.items()),
            processes=processes,
            processes_known=bool(processes),
            name=title,
            inputs_known=known,
            origin=Origin(source, data.line_of("title") if "title" in data else 1),
        )
    ]
    return fragment


def _identity(data, product: Item, ambiguous: set[str]) -> tuple[str, tuple[str, ...], int]:
    """(the design id, the manifest fields it comes from, the line of the first).

    The link the manifest gives for its project, normalised as a repository URL is (so
    `…/blob/main/README.md` names the repository), else its title, else its product; with its
    `version` when given, so two releases of one design are two designs. A link given twice
    with different values does not say which project this is, and is passed over."""
    version = okf.clean(data.get("version"))
    suffix = f"@{_version_slug(version)}" if version and _version_slug(version) else ""
    also = ("version",) if suffix else ()
    for key in _IDENTITY_LINKS:
        link = okf.clean(data.get(key)) if key not in ambiguous else ""
        if link and _LINK.match(link):
            found = _repository(link)
            if found:
                return slug(found) + suffix, (key, *also), data.line_of(key)
    if okf.clean(data.get("title")):
        return slug(okf.clean(data["title"])) + suffix, ("title", *also), data.line_of("title")
    line = product.origin.line or 1
    return slug(product.name) + suffix, ("product-atom", *also), line


def _version_slug(version: str) -> str:
    """'v0.3T and V0.4T' -> 'v0.3t-and-v0.4t': dots kept, as versions are written with them."""
    folded = unicodedata.normalize("NFKD", version).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9.]+", "-", folded.lower()).strip("-.")


def _product(data: dict, source: str, diagnostics: list[Diagnostic]) -> Item | None:
    """The product: `product-atom` when it names something, else the title."""
    title = okf.clean(data.get("title"))
    title_line = data.line_of("title") if "title" in data else 1
    atoms = okf.as_list(data.get("product-atom"))
    if atoms:
        line = data.line_of("product-atom")
        if len(atoms) > 1:
            diagnostics.append(
                warning(
                    f"{len(atoms)} product atoms; the first is the product",
                    source,
                    line,
                    "product-atom",
                )
            )
        product = okf.atom_item(atoms[0], source, line, "product-atom", diagnostics)
        if product is not None:
            if title and title.casefold() != product.name.casefold():
                product = Item(
                    product.id,
                    product.name,
                    aliases=(*product.aliases, title),
                    origin=product.origin,
                )
            return product
        if title:
            diagnostics.append(
                warning(
                    f"the product is named by the title {title!r}", source, line, "product-atom"
                )
            )
    if not title:
        diagnostics.append(
            error(
                "no title and no product-atom: what this manifest makes is "
                "unknown, so it is left out",
                source,
                1,
                "title",
            )
        )
        return None
    return Item(slug(title), title, origin=Origin(source, title_line))


def _inputs(data, product: Item, source: str, text: str, diagnostics: list[Diagnostic]):
    """(quantities by item id, the input items, whether the inputs are known)."""
    if okf.as_list(data.get("bom-atoms")):
        return _inputs_from_atoms(data, product, source, text, diagnostics)
    bom = data.get("bom")
    line = data.line_of("bom") if "bom" in data else data.line
    names = okf.split_list(bom)
    if len(names) == 1 and _LINK.match(names[0]):
        diagnostics.append(
            warning(
                f"the BOM is only a link ({names[0]}), which SCIS does not follow: the inputs "
                f"of {product.name!r} are unknown",
                source,
                line,
                "bom",
            )
        )
        return {}, [], False
    if names and any(_PATH_LIKE.search(n) and not _LINK.match(n) for n in names):
        return _inputs_from_bom_files(names, product, source, line, diagnostics)
    if names:
        items = [Item(slug(n), n, origin=Origin(source, line)) for n in names]
        diagnostics.append(
            warning(
                f"inputs read from the plain `bom` text as {len(names)} name(s), 1 of each per "
                f"{product.name!r} (no quantities given): " + ", ".join(map(repr, names)),
                source,
                line,
                "bom",
            )
        )
        return _summed([(i.id, 1) for i in items], source, line, diagnostics), items, True
    return _inputs_from_design_files(data, product, source, diagnostics)


def _inputs_from_bom_files(names, product: Item, source: str, line: int, diagnostics):
    """`bom` names files beside the manifest (one, or a list): their rows are the inputs. A
    file that is not there, or cannot be read as a BOM, leaves the inputs unknown, said so."""
    root = Path(source).parent
    pairs, items, known = [], [], True
    for name in names:
        path = find_on_disk(root, name) if _PATH_LIKE.search(name) else None
        bom = read_bom(path) if path is not None else None
        if bom is None or isinstance(bom, Diagnostic):
            if isinstance(bom, Diagnostic):
                diagnostics.append(bom)
            why = "cannot be read" if path is not None else "is not a file beside the manifest"
            diagnostics.append(
                warning(
                    f"the BOM {name!r} {why}: the inputs of {product.name!r} are unknown",
                    source,
                    line,
                    "bom",
                )
            )
            known = False
            continue
        diagnostics.extend(bom.diagnostics)
        if bom.left_out:
            diagnostics.append(
                warning(
                    f"{len(bom.left_out)} row(s) of the BOM {name!r} could not be read: the "
                    f"inputs of {product.name!r} are unknown until they are",
                    source,
                    line,
                    "bom",
                )
            )
            known = False
        for row in bom.rows:
            properties = frozen_mapping({"variant": row.variant} if row.variant else {})
            origin = Origin(str(path), row.line)
            item = Item(slug(row.label), row.label, origin=origin, properties=properties)
            pairs.append((item.id, row.count))
            items.append(item)
    return _summed(pairs, source, line, diagnostics), items, known and bool(pairs)


def _inputs_from_atoms(data, product: Item, source: str, text: str, diagnostics):
    atoms = data.get("bom-atoms")
    line = data.line_of("bom-atoms")
    pairs, items, missing = [], [], 0
    for index, atom in enumerate(okf.as_list(atoms)):
        atom_line = okf.line_in(atoms, index, line)
        field = f"bom-atoms[{index}]"
        item = okf.atom_item(atom, source, atom_line, field, diagnostics)
        if item is None:
            continue
        quantity = atom.get("quantity") if isinstance(atom, dict) else None
        if quantity is None:
            missing += 1
            quantity = 1
        elif isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            diagnostics.append(
                warning(
                    f"quantity {quantity!r} is not a whole number of units; 1 is assumed",
                    source,
                    atom_line,
                    f"{field}.quantity",
                )
            )
            quantity = 1
        pairs.append((item.id, quantity))
        items.append(item)
    if missing:
        first = okf.line_in(atoms, 0, line + 1)
        todo = " (the manifest marks them TODO)" if "TODO" in _lines(text, line, first) else ""
        diagnostics.append(
            warning(
                f"no quantities given for {missing} of the {len(pairs)} inputs{todo}: 1 of each is "
                f"assumed per {product.name!r}",
                source,
                line,
                "bom-atoms",
            )
        )
    return _summed(pairs, source, line, diagnostics), items, bool(pairs)


def _inputs_from_design_files(data, product: Item, source: str, diagnostics):
    """No BOM at all. When `design-files` lists named parts (the Wisconsin photoreactor's six
    sub-assemblies), the product is at least built from them: each becomes an input item, 1
    each, which someone must offer or design before the product can be made. The design stays
    marked as having unknown inputs (screws, wires... are not listed). An entry that is a file
    and not a part is never an input: titled by a path or URL, titled as files ("Materials and
    Design files", "CAD"), pointing at a document or a shared folder, or named as the product
    itself (Helpful's face shield links its own Drive folder under its own name)."""
    files = okf.as_list(data.get("design-files"))
    line = data.line_of("design-files") if "design-files" in data else data.line
    entries = [f for f in files if isinstance(f, dict) and f.get("title")]
    names = [
        okf.clean(f.get("title"))
        for f in entries
        if not _FILE_PATH.search(okf.clean(f.get("path")))
    ]
    names = [
        n
        for n in names
        if not _PATH_LIKE.search(n)
        and not _FILE_TITLE.search(n)
        and slug(n) != product.id
        and n.casefold() != product.name.casefold()
    ]
    if not names:
        diagnostics.append(
            warning(f"no BOM: the inputs of {product.name!r} are unknown", source, line, "bom")
        )
        return {}, [], False
    items = [Item(slug(n), n, origin=Origin(source, line)) for n in names]
    diagnostics.append(
        warning(
            f"no BOM: the inputs of {product.name!r} are unknown beyond its {len(items)} "
            "design-files sub-assemblies, taken as inputs, 1 each",
            source,
            line,
            "design-files",
        )
    )
    return _summed([(i.id, 1) for i in items], source, line, diagnostics), items, False


def _summed(pairs, source: str, line: int, diagnostics: list[Diagnostic]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for item_id, quantity in pairs:
        if item_id in totals:
            diagnostics.append(
                warning(
                    f"input {item_id!r} is listed more than once; the quantities are added",
                    source,
                    line,
                    "bom",
                )
            )
        totals[item_id] = totals.get(item_id, 0) + quantity
    return totals


def _lines(text: str, first: int, last: int) -> str:
    """Lines first..last (1-based, inclusive): where Helpful writes `# TODO: size, quantity`."""
    return "\n".join(text.splitlines()[first - 1 : last])


# -- other manifests this one is built from ----------------------------------------------------

# `sub-parts` (OKH v1 schema; `sub` before it, deprecated): entries {title, manifest, web}, each a
# project this one uses (iop-alliance/OpenKnowHow okh-v1.schema.json, "otherProject").
_SUB_KEYS = ("sub-parts", "sub")


def _declare_module(fragment: Fragment, data, product: Item, ambiguous: set[str], source: str):
    """The repository this manifest describes, so that another manifest's `sub-parts` or a LOSH
    MOSH row naming it finds its product (core/importers/module_references.py)."""
    for key in _IDENTITY_LINKS:
        link = okf.clean(data.get(key)) if key not in ambiguous else ""
        found = _repository(link) if _LINK.match(link) else None
        if found:
            version = okf.clean(data.get("version"))
            fragment.modules.append(
                ModuleRelease(found, version or None, product.id, Origin(source, data.line_of(key)))
            )
            return


def _with_sub_parts(fragment: Fragment, data, inputs: dict[str, int], source: str):
    """The inputs with one of each sub-part added (the schema gives sub-parts no quantity; a
    `quantity` written anyway is read). A sub-part named by its manifest or web link is that
    project's product once every file is read; one named only by its title is an item of that
    name."""
    diagnostics = fragment.diagnostics
    for key in _SUB_KEYS:
        written = data.get(key)  # the list as parsed knows each entry's line
        entries = okf.as_list(written)
        for index, entry in enumerate(entries):
            line = okf.line_in(written, index, data.line_of(key))
            field = f"{key}[{index}]"
            title = okf.clean(entry.get("title")) if isinstance(entry, dict) else ""
            link = next(
                (
                    okf.clean(entry.get(k))
                    for k in ("manifest", "web")
                    if isinstance(entry, dict) and _LINK.match(okf.clean(entry.get(k)))
                ),
                "",
            )
            module = _repository(link) if link else None
            if module is None and not title:
                diagnostics.append(
                    warning(
                        f"{entry!r} names no project (title, manifest or web); ignored",
                        source,
                        line,
                        field,
                    )
                )
                continue
            count = entry.get("quantity", 1) if isinstance(entry, dict) else 1
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                diagnostics.append(
                    warning(
                        f"quantity {count!r} is not a whole number of units; 1 is assumed",
                        source,
                        line,
                        f"{field}.quantity",
                    )
                )
                count = 1
            origin = Origin(source, line)
            if module is None:
                item = Item(slug(title), title, origin=origin)
            else:
                item = Item(module, module, aliases=(title,) if title else (), origin=origin)
                what = f"sub-part {title or link!r}"
                fragment.references.append(
                    ModuleReference(module, module, repo_pin(link), what, origin, field)
                )
            fragment.items.append(item)
            inputs[item.id] = inputs.get(item.id, 0) + count
    return inputs


def _repository(link: str) -> str | None:
    """The repository a project link names; manifests often write it without `https://`."""
    return repo_id(link if "://" in link else f"https://{link}")
