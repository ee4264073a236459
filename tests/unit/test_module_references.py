"""Whole repositories: modules nested in modules, several releases of one module, references to
modules that are loaded or not (LOSH MOSH rows, OKH v1 `sub-parts`), resolved once every file
is read (core/importers/module_references.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.importers import load_network, okh_losh
from core.network.model import Facility, Offer, Participant
from core.weave import PlanCounter, SupplyIndex

DATA = Path(__file__).parent.parent / "data" / "repositories"
A, B, C, D = (f"github.com/OPEN-NEXT/LOSH-dummy-MOSH-{m}" for m in "ABCD")
SBOM_HEADER = "POS\tNAME\tUNITS\tTYPE\tREFERENCE\n"


def made_by(network) -> dict[str, dict[str, int]]:
    return {d.makes: dict(d.inputs) for d in network.designs.values()}


def supplied(network):
    """The network with every item no design makes offered, and one facility doing every
    process the designs name: what is left to count is how the designs stand on one another."""
    made = made_by(network)
    leaves = [item for item in network.items if item not in made]
    processes = frozenset(p for d in network.designs.values() for p in d.processes)
    return network.with_records(
        participants=[Participant("shop", "Shop", ("maker", "supplier"))],
        facilities=[Facility("workshop", "shop", processes)],
        offers=[Offer(f"sells-{n}", "shop", item) for n, item in enumerate(leaves)],
    )


def module(folder: Path, repo: str, sbom: str = "", version: str | None = None) -> Path:
    folder.mkdir(parents=True)
    lines = [f'name = "{folder.name}"', f'repo = "{repo}"', 'tsdc = "MEC"', 'bom = "sBoM.csv"']
    if version:
        lines.append(f'version = "{version}"')
    (folder / "okh.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "sBoM.csv").write_text(SBOM_HEADER + sbom, encoding="utf-8")
    return folder


# -- nested modules -----------------------------------------------------------------------------


def test_modules_kept_as_submodules_are_read_and_the_weave_goes_through_them():
    root = DATA / "losh-dummy-submodules"
    result = load_network([root])
    made = made_by(result.network)
    assert {A, B, C, D} <= made.keys()
    assert made[A][B] == 1 and made[A][C] == 1 and made[B][D] == 1 and made[C][D] == 1
    # D's part manifests are read through D's sBoM, once, and never as modules of their own.
    assert made[f"{D}/clamp-ring"] and made[f"{D}/comb-module"]
    assert {d.origin.file for d in result.network.designs.values()} >= {
        str(root / "modules/MOSH-D/3DParts/ClampRing/okh-ClampRing.toml")
    }
    assert not [d for d in result.network.designs if d in ("okh:clamp-ring", "okh:comb")]
    assert not [d for d in result.diagnostics if "duplicate" in d.message or "already" in d.message]
    # Nobody offers B, C or D: A's one plan makes them, through the nested modules' designs.
    counter = PlanCounter(SupplyIndex(supplied(result.network)))
    assert [counter.count(m) for m in (A, B, C, D)] == [1, 1, 1, 1]
    # Without the nested folders (the root manifest read alone) nothing makes B and C.
    alone = load_network([root / "okh.toml"]).network
    assert B not in made_by(alone) and C not in made_by(alone)


def test_modules_in_folders_of_one_repository_are_named_by_their_folder():
    # refaqt/stoq: each module's `repo` is its folder, `…/tree/main/modules/hiwin`.
    designs = load_network([DATA / "stoq"]).network.designs
    assert {d.makes for d in designs.values()} == {
        "github.com/refaqt/stoq",
        "github.com/refaqt/stoq/modules/hiwin",
        "github.com/refaqt/stoq/modules/hiwin/modules/hgl-block",
    }


@pytest.mark.parametrize(
    ("url", "module", "pin"),
    [
        (
            "https://github.com/refaqt/stoq/tree/main/modules/hiwin",
            "github.com/refaqt/stoq/modules/hiwin",
            None,
        ),
        ("https://github.com/o/r/blob/main/x/okh.toml", "github.com/o/r/x", None),
        ("https://github.com/o/r/blob/main/README.md", "github.com/o/r", None),
        ("https://raw.githubusercontent.com/o/r/master/okh.yml", "github.com/o/r", None),
        (
            "https://github.com/o/r/commit/d11fbfbd74941236e5e3",
            "github.com/o/r",
            "d11fbfbd74941236e5e3",
        ),
        ("https://github.com/o/r/releases/tag/v1.0.0", "github.com/o/r", "v1.0.0"),
        (
            "https://gitlab.com/OSEGermany/ohloom/-/tags/ohloom-0.10.0",
            "gitlab.com/OSEGermany/ohloom",
            "ohloom-0.10.0",
        ),
        ("https://github.com/o/r/archive/v1.2.zip", "github.com/o/r", "v1.2"),
        ("https://github.com/o/r/tree/main", "github.com/o/r", None),  # a branch pins nothing
    ],
)
def test_what_a_repository_url_names_and_pins(url, module, pin):
    assert (okh_losh.repo_id(url), okh_losh.repo_pin(url)) == (module, pin)


# -- releases -----------------------------------------------------------------------------------

LID = "github.com/example/lid"


def test_two_releases_coexist_and_references_pick_the_pinned_else_the_newest(tmp_path):
    module(tmp_path / "lid-1.0.2", f"https://{LID}", version="1.0.2")
    module(tmp_path / "lid-1.1.0", f"https://{LID}", version="1.1.0")
    module(
        tmp_path / "pinned",
        "https://github.com/example/pinned",
        f"1\tLid\t1\tMOSH\thttps://{LID}/releases/tag/v1.0.2\n",
    )
    module(
        tmp_path / "unpinned",
        "https://github.com/example/unpinned",
        f"1\tLid\t2\tMOSH\thttps://{LID}\n",
    )
    module(
        tmp_path / "by-commit",
        "https://github.com/example/by-commit",
        f"1\tLid\t1\tMOSH\thttps://{LID}/commit/8035f8754d194f9e4e5f\n",
    )
    result = load_network([tmp_path])
    assert not result.errors
    designs = result.network.designs
    # The newest keeps the module's ids; the older is addressed by its version.
    assert designs[f"okh:{LID}"].origin.file.endswith("lid-1.1.0/okh.toml")
    assert designs[f"okh:{LID}@1.0.2"].origin.file.endswith("lid-1.0.2/okh.toml")
    assert designs[f"okh:{LID}@1.0.2"].makes == f"{LID}@1.0.2"
    made = made_by(result.network)
    assert made["github.com/example/pinned"] == {f"{LID}@1.0.2": 1}
    assert made["github.com/example/unpinned"] == {LID: 2}
    assert made["github.com/example/by-commit"] == {LID: 1}
    said = {d.file.split("/")[-2]: d.message for d in result.diagnostics if d.field == "REFERENCE"}
    assert said == {
        "pinned": "MOSH row 'Lid' pins v1.0.2: 1.0.2 is used, of the loaded 1.0.2, 1.1.0",
        "unpinned": "MOSH row 'Lid' pins no version: it uses 1.1.0, the newest of 1.0.2, 1.1.0",
        "by-commit": "MOSH row 'Lid' pins commit 8035f87, which is no loaded version: the newest "
        "loaded, 1.1.0, is used",
    }
    assert result.network.items[f"{LID}@1.0.2"].name == "lid-1.0.2"


def test_one_loaded_release_keeps_its_ids_and_says_nothing_of_a_commit(tmp_path):
    module(tmp_path / "lid", f"https://{LID}", version="1.0.2")
    module(
        tmp_path / "box",
        "https://github.com/example/box",
        f"1\tLid\t1\tMOSH\thttps://{LID}/tree/fe8b313\n",
    )
    module(
        tmp_path / "jar",
        "https://github.com/example/jar",
        f"1\tLid\t1\tMOSH\thttps://{LID}/releases/tag/v0.9\n",
    )
    result = load_network([tmp_path])
    assert made_by(result.network)["github.com/example/box"] == {LID: 1}
    [told] = [d for d in result.diagnostics if d.field == "REFERENCE"]
    assert (told.file.split("/")[-2], told.line) == ("jar", 2)
    assert (
        told.message == "MOSH row 'Lid' pins v0.9, which is not the loaded version: 1.0.2 is used"
    )


# -- what is not loaded -------------------------------------------------------------------------


def test_a_module_not_loaded_is_reported_once_as_external(tmp_path):
    mppt = "https://github.com/LibreSolar/mppt-2420-hc"
    for name in ("box", "jar"):
        module(tmp_path / name, f"https://github.com/example/{name}", f"1\tMPPT\t1\tMOSH\t{mppt}\n")
    result = load_network([tmp_path])
    [external] = [d for d in result.diagnostics if "external" in d.message]
    assert (external.severity, external.field, external.line) == ("warning", "REFERENCE", 2)
    assert external.message == (
        "external module github.com/LibreSolar/mppt-2420-hc (not loaded): its item has no "
        "source until it is offered or loaded (and 1 more reference)"
    )
    assert "github.com/LibreSolar/mppt-2420-hc" in result.network.items


# -- OKH v1 sub-parts ---------------------------------------------------------------------------

PARENT = """\
title: Pump
project-link: https://github.com/example/pump
bom-atoms:
  - identifier: hose
    description: Hose
    quantity: 2
sub-parts:
  - title: Motor unit
    manifest: https://raw.githubusercontent.com/example/motor/main/okh.yml
  - title: Controller
    web: https://github.com/example/controller
sub:
  - title: Stand
    quantity: 3
"""
MOTOR = """\
title: Motor
project-link: https://github.com/example/motor
version: 2.0
bom-atoms:
  - identifier: coil
    description: Coil
    quantity: 1
"""


def test_okh_v1_sub_parts_are_the_products_of_the_loaded_manifests_else_external(tmp_path):
    (tmp_path / "pump").mkdir()
    (tmp_path / "pump" / "okh.yml").write_text(PARENT, encoding="utf-8")
    (tmp_path / "motor").mkdir()
    (tmp_path / "motor" / "okh.yml").write_text(MOTOR, encoding="utf-8")
    result = load_network([tmp_path])
    pump = next(d for d in result.network.designs.values() if d.name == "Pump")
    motor = next(d for d in result.network.designs.values() if d.name == "Motor")
    inputs = dict(pump.inputs)
    assert inputs[motor.makes] == 1  # the loaded manifest's product, by its manifest's URL
    assert inputs["github.com/example/controller"] == 1  # not loaded: an item nobody supplies
    assert inputs["stand"] == 3  # the older key, by title only, with the quantity it gives
    assert "Motor unit" in result.network.items[motor.makes].aliases
    [external] = [d for d in result.diagnostics if "external" in d.message]
    assert external.message.startswith("external module github.com/example/controller (not")
    assert (external.line, external.field) == (10, "sub-parts[1]")
