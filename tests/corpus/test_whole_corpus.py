"""All of ../shared/corpus loaded in one call, as a person would point SCIS at the folder: the
sound files make one network, each broken file says what is wrong with it, and nothing else is
reported as an error; the catalog and the weave run over the whole of it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from core.importers import importers, load_network
from core.network.model import Network
from core.pricing import plan_equation
from core.weave import Demand, Weave, orderable_catalog
from core.weave.sources import Bought

pytestmark = pytest.mark.corpus

LOSH = [f"github.com/OPEN-NEXT/LOSH-dummy-MOSH-{m}" for m in "ABCD"]
FABLABS = "okw/fablabs-io-facilities.json"
LEGS, SEAT, BACK = "wikidata:Q79928004", "wikidata:Q2207370", "wikidata:Q95968272"


@cache
def _whole(corpus: Path):
    return load_network([corpus])


@pytest.fixture
def whole(corpus):
    return _whole(corpus)


@pytest.fixture
def relative(corpus):
    """A diagnostic's or record's file, relative to the corpus."""

    def relative(file: str | None) -> str | None:
        return None if file is None else Path(file).relative_to(corpus).as_posix()

    return relative


def test_the_whole_corpus_loads_in_one_call(whole, relative):
    network = whole.network
    # the fab-lab directory: thousands of facilities, each run by its own lab
    labs = [f for f in network.facilities.values() if relative(f.origin.file) == FABLABS]
    assert len(labs) == 2237
    assert len(network.facilities) >= 2237 + 6  # and the Helpful workshops and kitchens
    assert all(f.operator in network.participants for f in labs)
    # the LOSH modules, each made by its own design
    for module in LOSH:
        assert f"okh:{module}" in network.designs
        assert network.designs[f"okh:{module}"].makes == module
    # the chair of the paper, from Helpful's OKH
    chair = network.designs["chair@0.0.1"]
    assert chair.makes == "chair" and dict(chair.inputs) == {LEGS: 1, SEAT: 1, BACK: 1}
    # the photoreactor and the agrocircle carer load despite their quirks
    assert {
        "github-com-uw-madison-chem-shops-wisconsin-photoreactor",
        "wiki-opensourceecology-de-agrocircle",
    } <= set(network.designs)


def test_only_the_broken_files_have_errors(whole, relative):
    errors = {(relative(d.file), d.line, d.field): d.message for d in whole.errors}
    assert set(errors) == {
        ("helpful/alpha/okh/okh-seat-helpful.yml", 3, None),
        ("independent/okh-v1/openflexure-microscope-malformed.yml", 37, None),
        ("losh/MOSH-A/sBoM.csv", 11, "REFERENCE"),
        ("helpful/alpha/okh/okh-manifest-surge-english.yml", 16, "project-link"),
    }
    seat = errors[("helpful/alpha/okh/okh-seat-helpful.yml", 3, None)]
    assert seat.startswith("not valid YAML: mapping values are not allowed here")
    flexure = errors[("independent/okh-v1/openflexure-microscope-malformed.yml", 37, None)]
    assert "found character '@' that cannot start any token" in flexure
    comb = errors[("losh/MOSH-A/sBoM.csv", 11, "REFERENCE")]
    assert "okh-CombModul.toml" in comb
    # two manifests of one mask, the same link and version: a clash naming both, not a bad file
    clash = errors[("helpful/alpha/okh/okh-manifest-surge-english.yml", 16, "project-link")]
    assert "okh-manifest-surge-english-helpful.yml:16 (from `project-link` and `version`)" in clash
    # a folder was given, not the files: nothing blocks
    assert whole.blocking_errors == []


def test_the_duplicate_key_is_noted_and_the_file_still_loads(whole, relative):
    [duplicate] = [
        d
        for d in whole.diagnostics
        if relative(d.file) == "independent/okh-v1/agrocircle-duplicate-key.yml"
        and d.field == "project-link"
    ]
    assert (duplicate.severity, duplicate.line) == ("warning", 36)
    assert "duplicate key 'project-link'" in duplicate.message


def test_broken_files_contribute_nothing(whole, corpus):
    broken = {
        str(corpus / "helpful/alpha/okh/okh-seat-helpful.yml"),
        str(corpus / "independent/okh-v1/openflexure-microscope-malformed.yml"),
    }
    network = whole.network
    for kind in ("participants", "items", "designs", "facilities", "offers"):
        assert not [r for r in getattr(network, kind).values() if r.origin.file in broken], kind


def test_every_diagnostic_names_a_real_file_of_the_corpus(whole, corpus):
    assert whole.diagnostics
    for diagnostic in whole.diagnostics:
        assert diagnostic.severity in ("error", "warning")
        assert diagnostic.file is not None, diagnostic
        assert Path(diagnostic.file).is_file(), diagnostic
        assert Path(diagnostic.file).is_relative_to(corpus), diagnostic


def test_every_reference_of_the_merged_network_resolves(whole):
    network = whole.network
    for design in network.designs.values():
        assert design.makes in network.items, design.id
        assert all(i in network.items for i, _ in design.inputs), design.id
    for offer in network.offers.values():
        assert offer.item in network.items, offer.id
        assert offer.supplier is None or offer.supplier in network.participants, offer.id
    for facility in network.facilities.values():
        assert facility.operator is None or facility.operator in network.participants


# -- the catalog over everything ------------------------------------------------------------


def by_formula(network: Network) -> dict[str, int]:
    """The weave's count (ARCHITECTURE.md, Weave), written out plainly:
    offers + Σ_(D,F) Π count(I, path ∪ {T})."""
    offers: dict[str, int] = {}
    for offer in network.offers.values():
        offers[offer.item] = offers.get(offer.item, 0) + 1

    def runs(d, f) -> bool:
        """F offers all of D's processes, and both say which they are (unknown matches none)."""
        stated = d.processes_known and f.processes_known
        return (stated or network.unknown_processes_match_any) and d.processes <= f.processes

    capable = {
        d.id: sum(1 for f in network.facilities.values() if runs(d, f))
        for d in network.designs.values()
    }

    def count(item: str, path: frozenset[str]) -> int:
        total = offers.get(item, 0)
        if item in path:
            return total
        for design in network.designs.values():
            if design.makes != item or not design.inputs_known:
                continue
            product = capable[design.id]
            for input_id, _ in design.inputs:
                product *= count(input_id, path | {item})
            total += product
        return total

    return {item: count(item, frozenset()) for item in network.items}


def test_the_orderable_catalog_of_the_whole_corpus(whole):
    network = whole.network
    entries = orderable_catalog(network)
    assert [e.item.id for e in entries] == list(network.items)
    counts = {e.item.id: e.plan_count for e in entries}
    assert counts == by_formula(network)
    assert counts["chair"] == 1  # the fab labs declare no processes: only James can make it
    for module in LOSH:  # nobody offers the standard parts the modules need
        assert counts[module] == 0
    # The precious hocker's BOM names no process: it is assembled at no facility.
    assert counts["losh-precious-hocker"] == 0
    normal = {e.item.id for e in entries if e.normal}
    assert normal == {o.item for o in network.offers.values()}
    assert "chair" not in normal
    orderable = {e.item.id for e in entries if e.orderable}
    assert normal <= orderable


def test_the_chair_weaves_over_the_whole_corpus(whole):
    network = whole.network
    weave = Weave(network, [Demand("chair", 1)])
    assert weave.count() == 1
    (plan,) = weave.best(5)
    (root,) = plan.lines
    assert root.source.design.id == "chair@0.0.1"
    assert root.source.facility.id == "james-maker-space-facility"


# -- the chair from Helpful's folder ----------------------------------------------------------


def test_the_chair_weaves_from_helpful_alpha(corpus):
    result = load_network([corpus / "helpful" / "alpha"])
    network = result.network
    weave = Weave(network, [Demand("chair", 1)])
    assert weave.count() == 1
    (plan,) = weave.plans()
    (root,) = plan.lines
    assert (root.item, root.quantity, root.source.design.id, root.source.facility.id) == (
        "chair",
        1,
        "chair@0.0.1",
        "james-maker-space-facility",
    )
    assert [(n.item, n.quantity) for n in root.inputs] == [(LEGS, 1), (SEAT, 1), (BACK, 1)]
    assert all(isinstance(n.source, Bought) for n in root.inputs)
    assert {n.source.offer.supplier for n in root.inputs} == {"chair-supplies"}
    # Nobody has said a price or a labour: four symbols, no number.
    equation = plan_equation(network, plan)
    assert equation.price is None
    assert len(equation.unknowns) == 4
    assert equation.text() == "P = K + C + S + C2"  # chair legs, seat, chair back
    # an order of two scales every input (the manifest assumes one of each per chair)
    (two,) = Weave(network, [Demand("chair", 2)]).plans()
    assert [n.quantity for n in two.lines[0].inputs] == [2, 2, 2]


def test_every_file_of_the_corpus_is_accounted_for(corpus, whole, relative):
    """Each network file is read (a record, a diagnostic or a fragment names it); the Value
    Flows vocabulary and the README are no networks, and no importer mistakes them for one."""
    network = whole.network
    named = {relative(f.source) for f in whole.fragments}
    named |= {relative(d.file) for d in whole.diagnostics if d.file}
    for kind in ("participants", "items", "designs", "facilities", "offers"):
        named |= {relative(r.origin.file) for r in getattr(network, kind).values() if r.origin.file}
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        name = path.relative_to(corpus).as_posix()
        if name.startswith("valueflows/") or name == "README.md":
            assert not any(i.recognizes(path) for i in importers()), name
        elif name.endswith("sBoM.csv"):
            # read with its module's okh.toml: the module's inputs come from its rows
            module = network.designs[f"okh:github.com/OPEN-NEXT/LOSH-dummy-{path.parent.name}"]
            assert len(module.inputs) >= 5, name
        else:
            assert name in named, name
