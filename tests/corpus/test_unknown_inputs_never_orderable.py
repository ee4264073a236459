"""Issue 17's acceptance, through `scis catalog` as a coordinator runs it: the LOSH part of the
corpus, the real LOSH manifests of tests/data, the fab-lab directory and a Helpful 3D-printing
place, with a shop selling every item no design makes. No item is orderable through a design
whose inputs are unknown, even when the network assumes unknown processes match any facility
(then the 2,237 fab labs may run designs that name no process, as they once made BOM-less modules
"from nothing")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bots.cli import app
from core.importers import load_network

pytestmark = pytest.mark.corpus

DATA = Path(__file__).parents[1] / "data"
RIYA = DATA / "okw" / "Riya3dprinting.yml"


def _manifests(corpus: Path) -> list[Path]:
    return [
        corpus / "losh",
        corpus / "independent" / "losh-ohloom",
        corpus / "independent" / "losh-planktoscope",
        # Not the 2021 releases of the dummies, nor the dummies as submodules: those are the
        # corpus's modules again (a clash, tested in test_losh.py).
        *(DATA / "losh" / name for name in ("htwd-osh-cmm-arm", "smart-energy-monitor", "yaemk")),
        DATA / "repositories" / "stoq",
        corpus / "okw" / "fablabs-io-facilities.json",
        RIYA,
    ]


def _shop(folder: Path, paths: list[Path], assume_any: bool) -> Path:
    """A network file selling, at 1.00, every item that no design makes."""
    network = load_network([p for p in paths if p.is_dir() or p.suffix != ".md"]).network
    made = {d.makes for d in network.designs.values()}
    offers = [
        {"id": f"sells-{n}", "supplier": "shop", "item": item, "price": 1.0}
        for n, item in enumerate(i for i in network.items if i not in made)
    ]
    document = {
        "scis": 1,
        "participants": [{"id": "shop", "name": "Shop", "roles": ["supplier"]}],
        "offers": offers,
    }
    if assume_any:
        document["assume"] = {"unknown-processes": "any"}
    shop = folder / ("shop-any.yaml" if assume_any else "shop.yaml")
    shop.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return shop


def _catalog(paths: list[Path]) -> dict[str, int]:
    arguments = ["catalog", "--json"]
    for path in paths:
        arguments += ["-n", str(path)]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout[result.stdout.index("[") :])
    return {entry["item"]: int(entry["plan_count"]) for entry in entries}


@pytest.mark.parametrize("assume_any", [False, True], ids=["as-published", "assume-any"])
def test_no_item_is_orderable_through_a_design_with_unknown_inputs(corpus, tmp_path, assume_any):
    paths = _manifests(corpus)
    paths.append(_shop(tmp_path, paths, assume_any))
    network = load_network(paths).network
    unknown = {d.makes for d in network.designs.values() if not d.inputs_known}
    known = {d.makes for d in network.designs.values() if d.inputs_known}
    # The real files have such designs: OHLOOM and PlanktoScope name BOMs their repositories do
    # not hold, the smart energy monitor a BOM.csv that is a BOM.md, YAEMK a BOM without header.
    assert {
        "gitlab.com/OSEGermany/ohloom",
        "github.com/PlanktoScope/PlanktoScope",
    } <= unknown

    counts = _catalog(paths)

    only_unknown = unknown - known
    assert only_unknown and all(counts[item] == 0 for item in only_unknown), {
        item: counts[item] for item in only_unknown if counts[item]
    }
    # What is described stays orderable: a 3D-printed LOSH part of PLA, at the Helpful
    # 3D-printing place only (a fab lab that says nothing of its equipment runs no 3D printing,
    # assumed or not).
    assert counts["github.com/OPEN-NEXT/LOSH-dummy-MOSH-A/clamp-ring"] == 1
    assert counts["gitlab.com/OSEGermany/ohloom/clamp-ring"] == 1
