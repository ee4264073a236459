"""The weave on small networks built by hand: every count and every plan below is worked out on
paper as ARCHITECTURE.md (Weave) states it, not read back from the code.

  count(T, path) = #offers(T) + [T ∉ path] · Σ_(D,F) Π_inputs count(I, path ∪ {T})
  a design's inputs for q units: n · ⌈q / yield⌉
"""

from __future__ import annotations

import gc
import time
import weakref
from math import log, radians

import pytest

from core.network.model import Design, Facility, Item, Location, Network, Offer, Participant
from core.weave import (
    DISTANCE,
    PRICE,
    RISK,
    SOONEST,
    Demand,
    Plan,
    PlanCounter,
    PlanNode,
    SupplyIndex,
    Weave,
    WeaveError,
    orderable_catalog,
)
from core.weave.sources import Bought

EARTH_RADIUS_KM = 6371.0088


def km_along_a_meridian(degrees: float) -> float:
    """Great-circle distance between two places on one meridian (or on the equator)."""
    return EARTH_RADIUS_KM * radians(degrees)


def items(*ids: str, **properties) -> list[Item]:
    return [Item(i, i.capitalize(), properties=properties.get(i, {})) for i in ids]


def design(id_, makes, inputs, *, yield_=1, labor=1.0, processes=("work",), **kw) -> Design:
    return Design(
        id_,
        makes,
        inputs=tuple(inputs.items()),
        yield_=yield_,
        processes=frozenset(processes),
        labor=labor,
        **kw,
    )


def shop(id_="shop", processes=("work",), **kw) -> Facility:
    return Facility(id_, kw.pop("operator", None), frozenset(processes), **kw)


def offer(id_, item, price=1.0, **kw) -> Offer:
    return Offer(id_, kw.pop("supplier", None), item, price=price, **kw)


def shape(node: PlanNode) -> tuple:
    """A plan tree as (item, quantity, source id, inputs…)."""
    source = node.source
    if isinstance(source, Bought):
        where = source.offer.id
    else:
        where = f"{source.design.id}@{source.facility.id}"
    return (node.item, node.quantity, where, *(shape(c) for c in node.inputs))


def shapes(plans: list[Plan]) -> list[tuple]:
    return [tuple(shape(line) for line in plan.lines) for plan in plans]


def count(network: Network, item: str, criteria=frozenset()) -> int:
    return Weave(network, [Demand(item, 1)], criteria=criteria).count()


# -- cycles -----------------------------------------------------------------------------------


def direct_cycle() -> Network:
    """A is bought (oA) or made from one A and one B; B has two offers."""
    return Network.of(
        items=items("a", "b"),
        designs=[design("dA", "a", {"a": 1, "b": 1})],
        facilities=[shop()],
        offers=[offer("oA", "a"), offer("oB1", "b"), offer("oB2", "b", price=2.0)],
    )


def test_a_design_that_needs_its_own_item_takes_it_only_as_bought():
    network = direct_cycle()
    weave = Weave(network, [Demand("a", 1)])
    # 1 offer + dA · count(a, {a}) · count(b) = 1 + 1 · 2
    assert weave.count() == 3
    plans = list(weave.plans())
    assert sorted(shapes(plans)) == sorted([
        (("a", 1, "oA"),),
        (("a", 1, "dA@shop", ("a", 1, "oA"), ("b", 1, "oB1")),),
        (("a", 1, "dA@shop", ("a", 1, "oA"), ("b", 1, "oB2")),),
    ])  # fmt: skip


def test_a_self_cycle_with_nothing_to_buy_has_no_plan():
    network = Network.of(
        items=items("a"), designs=[design("dA", "a", {"a": 1})], facilities=[shop()]
    )
    weave = Weave(network, [Demand("a", 1)])
    assert weave.count() == 0
    assert weave.best(5) == []


def indirect_cycle() -> Network:
    """A ← 2 B; B ← 3 A + C. A has one offer, B two, C one."""
    return Network.of(
        items=items("a", "b", "c"),
        designs=[design("dA", "a", {"b": 2}), design("dB", "b", {"a": 3, "c": 1})],
        facilities=[shop()],
        offers=[offer("oA", "a"), offer("oB1", "b"), offer("oB2", "b"), offer("oC", "c")],
    )


def test_an_indirect_cycle_is_cut_on_the_path():
    network = indirect_cycle()
    # One counter for both, so that a result memoised for one path cannot leak into another.
    counter = PlanCounter(SupplyIndex(network))
    # count(a) = 1 + count(b, {a}) = 1 + (2 + count(a, {a, b}) · count(c)) = 1 + (2 + 1·1) = 4
    assert counter.count("a") == 4
    # count(b) = 2 + count(a, {b}) · count(c) = 2 + (1 + count(b, {a, b})) · 1 = 2 + (1 + 2) = 5
    assert counter.count("b") == 5
    assert counter.count("c") == 1

    plans_of_a = list(Weave(network, [Demand("a", 1)]).plans())
    assert sorted(shapes(plans_of_a)) == sorted([
        (("a", 1, "oA"),),
        (("a", 1, "dA@shop", ("b", 2, "oB1")),),
        (("a", 1, "dA@shop", ("b", 2, "oB2")),),
        # under dB, a is on the path: bought, never made again
        (("a", 1, "dA@shop", ("b", 2, "dB@shop", ("a", 6, "oA"), ("c", 2, "oC"))),),
    ])  # fmt: skip
    plans_of_b = list(Weave(network, [Demand("b", 1)]).plans())
    assert sorted(shapes(plans_of_b)) == sorted([
        (("b", 1, "oB1"),),
        (("b", 1, "oB2"),),
        (("b", 1, "dB@shop", ("a", 3, "oA"), ("c", 1, "oC")),),
        (("b", 1, "dB@shop", ("a", 3, "dA@shop", ("b", 6, "oB1")), ("c", 1, "oC")),),
        (("b", 1, "dB@shop", ("a", 3, "dA@shop", ("b", 6, "oB2")), ("c", 1, "oC")),),
    ])  # fmt: skip


def test_a_three_item_cycle_forbids_every_item_above_on_the_path():
    network = Network.of(
        items=items("a", "b", "c"),
        designs=[
            design("dA", "a", {"b": 1}),
            design("dB", "b", {"c": 1}),
            design("dC", "c", {"a": 1}),
        ],
        facilities=[shop()],
        offers=[offer("oA", "a"), offer("oB", "b"), offer("oC", "c")],
    )
    plans = list(Weave(network, [Demand("a", 1)]).plans())
    assert sorted(shapes(plans)) == sorted([
        (("a", 1, "oA"),),
        (("a", 1, "dA@shop", ("b", 1, "oB")),),
        (("a", 1, "dA@shop", ("b", 1, "dB@shop", ("c", 1, "oC"))),),
        (("a", 1, "dA@shop", ("b", 1, "dB@shop", ("c", 1, "dC@shop", ("a", 1, "oA")))),),
    ])  # fmt: skip
    assert Weave(network, [Demand("a", 1)]).count() == 4


def test_an_item_on_two_branches_is_not_a_cycle():
    """T ← Z + W, W ← Z: Z is made or bought on both branches (the cut is per path)."""
    network = Network.of(
        items=items("t", "w", "z", "r"),
        designs=[
            design("dT", "t", {"z": 1, "w": 1}),
            design("dW", "w", {"z": 1}),
            design("dZ", "z", {"r": 1}),
        ],
        facilities=[shop()],
        offers=[offer("oZ", "z"), offer("oR", "r")],
    )
    # count(z) = 1 + 1 = 2; count(w) = 2; count(t) = 2 · 2 = 4
    assert count(network, "t") == 4
    plans = list(Weave(network, [Demand("t", 1)]).plans())
    made = [
        sum(1 for n in p.nodes() if n.item == "z" and not isinstance(n.source, Bought))
        for p in plans
    ]
    assert sorted(made) == [0, 1, 1, 2]


# -- astronomical counts ----------------------------------------------------------------------


def wide_network(width: int = 40, choices: int = 6) -> Network:
    """A kit of `width` different parts, each sold by `choices` suppliers at 1, 2, … choices."""
    parts = [f"part{i:02d}" for i in range(width)]
    return Network.of(
        items=items("kit", *parts),
        designs=[design("assemble", "kit", {p: 1 for p in parts}, labor=5.0)],
        facilities=[shop()],
        offers=[offer(f"{p}-s{j}", p, price=float(j + 1)) for p in parts for j in range(choices)],
    )


def test_six_to_the_fortieth_plans_counted_exactly():
    weave = Weave(wide_network(), [Demand("kit", 1)])
    total = weave.count()
    assert type(total) is int
    assert total == 6**40 == 13_367_494_538_843_734_067_838_845_976_576
    assert total > 10**30


def test_the_best_three_of_six_to_the_fortieth_come_at_once():
    weave = Weave(wide_network(), [Demand("kit", 1)])
    started = time.perf_counter()
    best = weave.best(3)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0  # a lazy k-best touches the graph, not the 10^31 plans
    assert [p.rank for p in best] == [1, 2, 3]
    # labour 5 + 40 parts at 1; then one part at 2 instead (40 such plans tie at 46)
    assert [p.score for p in best] == [(0, 45.0), (0, 46.0), (0, 46.0)]
    cheapest = {n.source.offer.id for n in best[0].nodes() if isinstance(n.source, Bought)}
    assert cheapest == {f"part{i:02d}-s0" for i in range(40)}
    changed = []
    for plan in best[1:]:
        offers = {n.source.offer.id for n in plan.nodes() if isinstance(n.source, Bought)}
        (extra,) = offers - cheapest
        assert extra.endswith("-s1")
        changed.append(extra)
    assert len(set(changed)) == 2


def test_a_deep_chain_of_alternatives_counts_by_its_recurrence():
    """x0 is bought; x_k is bought (1 offer) or made from x_{k-1} at 5 shops.

    c_0 = 1, c_k = 1 + 5 · c_{k-1}, so c_k = (5^(k+1) − 1) / 4.
    """
    depth = 50
    shops = [shop(f"shop{j}") for j in range(5)]
    network = Network.of(
        items=items(*(f"x{k}" for k in range(depth + 1))),
        designs=[design(f"d{k}", f"x{k}", {f"x{k - 1}": 1}) for k in range(1, depth + 1)],
        facilities=shops,
        offers=[offer(f"o{k}", f"x{k}", price=1.0 if k == 0 else 1000.0) for k in range(depth + 1)],
    )
    expected = (5 ** (depth + 1) - 1) // 4
    assert expected > 10**34
    weave = Weave(network, [Demand(f"x{depth}", 1)])
    assert weave.count() == expected
    # Making costs 1 per level and buying 1000 (x0: 1): the best plan makes every level and
    # buys x0.
    best = weave.best(2)
    assert best[0].score == (0, depth * 1.0 + 1.0)
    assert sum(1 for _ in best[0].nodes()) == depth + 1
    assert best[1].score == best[0].score  # another shop for some level, same price


def test_an_order_multiplies_its_lines():
    network = indirect_cycle()
    weave = Weave(network, [Demand("a", 1), Demand("b", 2)])
    assert weave.count() == 4 * 5
    assert len(list(weave.plans())) == 20


# -- yields -------------------------------------------------------------------------------------


def yielding() -> Network:
    """A widget batch yields 3 from 2 parts and 2.0 of labour; a gadget batch yields 4 from 3
    widgets and 10.0 of labour; a part costs 1.5."""
    return Network.of(
        items=items("gadget", "widget", "part"),
        designs=[
            design("mill", "widget", {"part": 2}, yield_=3, labor=2.0),
            design("fit", "gadget", {"widget": 3}, yield_=4, labor=10.0),
        ],
        facilities=[shop()],
        offers=[offer("parts", "part", price=1.5)],
    )


@pytest.mark.parametrize(
    ("widgets", "batches", "parts", "price"),
    [
        (1, 1, 2, 1 * 2.0 + 2 * 1.5),
        (3, 1, 2, 1 * 2.0 + 2 * 1.5),
        (4, 2, 4, 2 * 2.0 + 4 * 1.5),
        (6, 2, 4, 2 * 2.0 + 4 * 1.5),
        (7, 3, 6, 3 * 2.0 + 6 * 1.5),
    ],
)
def test_inputs_are_scaled_by_whole_batches(widgets, batches, parts, price):
    (plan,) = Weave(yielding(), [Demand("widget", widgets)]).best(5)
    (root,) = plan.lines
    assert (root.quantity, root.batches) == (widgets, batches)
    assert shape(root) == ("widget", widgets, "mill@shop", ("part", parts, "parts"))
    assert plan.score == (0, pytest.approx(price))


def test_yields_compound_down_the_tree():
    # 5 gadgets: ⌈5/4⌉ = 2 batches → 6 widgets: ⌈6/3⌉ = 2 batches → 4 parts
    (plan,) = Weave(yielding(), [Demand("gadget", 5)]).best(5)
    (root,) = plan.lines
    assert shape(root) == (
        "gadget", 5, "fit@shop", ("widget", 6, "mill@shop", ("part", 4, "parts"))
    )  # fmt: skip
    assert [n.batches for n in root.walk()] == [2, 2, 1]
    assert plan.score == (0, pytest.approx(2 * 10.0 + 2 * 2.0 + 4 * 1.5))


# -- quality criteria -------------------------------------------------------------------------

LATEX_FREE = frozenset({"latex-free"})


def gloves() -> Network:
    return Network.of(
        items=items(
            "glove",
            "liner",
            "kit",
            "mitt",
            "strap",
            liner={"latex-free": True},
            mitt={"latex-free": True},
        ),  # fmt: skip
        designs=[
            design("kit-ok", "kit", {"glove": 1, "liner": 1}, properties={"latex-free": True}),
            design("kit-silent", "kit", {"glove": 1, "liner": 1}),
            design("kit-strap", "kit", {"glove": 1, "strap": 1}, properties={"latex-free": True}),
            design("mitt-silent", "mitt", {"glove": 1}),
        ],
        facilities=[shop()],
        offers=[
            offer("g-yes", "glove", properties={"latex-free": True}),
            offer("g-no", "glove", properties={"latex-free": False}),
            offer("g-silent", "glove"),  # neither the offer nor the item glove says so
            offer("l-silent", "liner"),  # the item liner says so
            offer("l-no", "liner", properties={"latex-free": False}),  # … but this offer denies it
            offer("strap-silent", "strap"),
        ],
    )


def test_a_source_qualifies_by_its_own_word_else_by_its_items():
    network = gloves()
    assert count(network, "glove") == 3 and count(network, "glove", LATEX_FREE) == 1
    assert count(network, "liner") == 2 and count(network, "liner", LATEX_FREE) == 1
    (glove,) = Weave(network, [Demand("glove", 1)], criteria=LATEX_FREE).plans()
    (liner,) = Weave(network, [Demand("liner", 1)], criteria=LATEX_FREE).plans()
    assert shape(glove.lines[0]) == ("glove", 1, "g-yes")
    assert shape(liner.lines[0]) == ("liner", 1, "l-silent")


def test_a_design_qualifies_when_it_says_so_and_every_input_does():
    network = gloves()
    # unfiltered: kit-ok 3·2 + kit-silent 3·2 + kit-strap 3·1
    assert count(network, "kit") == 15
    # latex-free: kit-ok 1·1; kit-silent says nothing (nor does kit); kit-strap's strap fails
    assert count(network, "kit", LATEX_FREE) == 1
    (plan,) = Weave(network, [Demand("kit", 1)], criteria=LATEX_FREE).plans()
    assert shape(plan.lines[0]) == (
        "kit", 1, "kit-ok@shop", ("glove", 1, "g-yes"), ("liner", 1, "l-silent")
    )  # fmt: skip


def test_a_silent_design_inherits_what_its_item_asserts():
    network = gloves()
    assert count(network, "mitt") == 3
    assert count(network, "mitt", LATEX_FREE) == 1


def test_several_criteria_must_all_hold():
    network = Network.of(
        items=items("cap"),
        offers=[
            offer("both", "cap", properties={"latex-free": True, "vegan": True}),
            offer("latex-free-only", "cap", properties={"latex-free": True}),
            offer("vegan-only", "cap", properties={"vegan": True}),
        ],
    )
    assert count(network, "cap", frozenset({"latex-free"})) == 2
    assert count(network, "cap", frozenset({"vegan"})) == 2
    (plan,) = Weave(network, [Demand("cap", 1)], criteria={"latex-free", "vegan"}).plans()
    assert shape(plan.lines[0]) == ("cap", 1, "both")


def test_an_unknown_criterion_filters_everything_out():
    assert count(gloves(), "glove", frozenset({"organic"})) == 0


# -- demands the weave refuses ----------------------------------------------------------------


@pytest.mark.parametrize("item", ["nothing", ""])
def test_an_unknown_item_is_refused(item):
    with pytest.raises(WeaveError, match="unknown item"):
        Weave(gloves(), [Demand(item, 1)])


@pytest.mark.parametrize("quantity", [0, -1, 1.5, 2.0, "3", True, None])
def test_a_quantity_that_is_not_a_positive_whole_number_is_refused(quantity):
    with pytest.raises(WeaveError, match="positive whole number"):
        Weave(gloves(), [Demand("glove", quantity)])


def test_an_order_without_lines_is_refused():
    with pytest.raises(WeaveError):
        Weave(gloves(), [])


def test_weave_error_is_a_value_error():
    assert issubclass(WeaveError, ValueError)


# -- the orderable catalog F_O ------------------------------------------------------------------


def workshop() -> Network:
    return Network.of(
        items=items("bolt", "frame", "engine", "unobtainium", "manual", "wheel"),
        designs=[
            design("weld", "frame", {"bolt": 4}),
            design("build", "engine", {"unobtainium": 1, "bolt": 2}),
            Design("write", "manual", inputs=(), inputs_known=False, processes=frozenset({"work"})),
            design("cast", "wheel", {"bolt": 1}),
        ],
        facilities=[shop(), shop("annex")],
        offers=[
            offer("bolts", "bolt", properties={"latex-free": True}),
            offer("wheels", "wheel"),
        ],
    )


def test_the_catalog_says_what_can_be_ordered_and_how():
    entries = orderable_catalog(workshop())
    table = {e.item.id: (e.plan_count, e.normal, e.orderable) for e in entries}
    assert [e.item.id for e in entries] == list(workshop().items)
    assert table == {
        "bolt": (1, True, True),  # normal: sold ready-made
        "frame": (2, False, True),  # adaptive: only made (at either shop)
        "engine": (0, False, False),  # needs unobtainium, which nobody sells or makes
        "unobtainium": (0, False, False),
        "manual": (0, False, False),  # its design does not say what goes in
        "wheel": (3, True, True),  # normal though also made: 1 offer + 2 shops
    }


def test_the_catalog_under_a_criterion():
    entries = orderable_catalog(workshop(), frozenset({"latex-free"}))
    table = {e.item.id: e.plan_count for e in entries}
    # only the bolts assert latex-free; the designs say nothing
    assert table == {"bolt": 1, "frame": 0, "engine": 0, "unobtainium": 0, "manual": 0, "wheel": 0}


def test_a_design_whose_inputs_are_unknown_gives_no_plan():
    network = workshop()
    weave = Weave(network, [Demand("manual", 1)])
    assert weave.count() == 0
    assert list(weave.plans()) == []
    assert SupplyIndex(network).sources("manual") == ()
    # The same design with its inputs known would be made at both shops, from nothing.
    known = network.with_records(designs=[design("write", "manual", {})])
    assert count(known, "manual") == 2


def test_nothing_to_make_it_from_gives_no_plan_and_best_is_empty():
    weave = Weave(workshop(), [Demand("engine", 1)])
    assert weave.count() == 0
    assert weave.best(3) == []


def test_processes_decide_which_facilities_can_make_a_design():
    network = Network.of(
        items=items("vase", "clay"),
        designs=[design("throw", "vase", {"clay": 1}, processes=("wheel", "kiln"))],
        facilities=[
            shop("wheel-only", ("wheel",)),
            shop("studio", ("wheel", "kiln", "glaze")),
            shop("kiln-only", ("kiln",)),
            shop("pottery", ("kiln", "wheel")),
        ],
        offers=[offer("clay", "clay")],
    )
    plans = list(Weave(network, [Demand("vase", 1)]).plans())
    assert sorted(p.lines[0].source.facility.id for p in plans) == ["pottery", "studio"]


# -- distance and risk --------------------------------------------------------------------------


def on_the_equator() -> Network:
    """A workshop at (0, 0); a dear supplier half a degree north, a cheap one a degree north."""
    return Network.of(
        participants=[
            Participant("maker", "Maker", location=Location(0.0, 0.0)),
            Participant("near", "Near", location=Location(0.5, 0.0), failure_probability=0.3),
            Participant("far", "Far", location=Location(1.0, 0.0), failure_probability=0.01),
            Participant("nowhere", "Nowhere"),
        ],
        items=items("box", "board"),
        designs=[design("fold", "box", {"board": 2}, labor=1.0)],
        facilities=[shop(operator="maker")],
        offers=[
            offer("near-boards", "board", price=10.0, supplier="near"),
            offer("far-boards", "board", price=1.0, supplier="far"),
        ],
    )


def test_distance_ranking_prefers_the_nearer_supplier():
    network = on_the_equator()
    buyer = Location(0.0, 2.0)  # two degrees east along the equator
    best = Weave(network, [Demand("box", 1)], ranking=DISTANCE, deliver_to=buyer).best(2)
    (root,) = best[0].lines
    (boards,) = root.inputs
    assert boards.source.offer.id == "near-boards"
    assert root.distance_km == pytest.approx(km_along_a_meridian(2.0), rel=1e-9)
    assert boards.distance_km == pytest.approx(km_along_a_meridian(0.5), rel=1e-9)
    assert best[0].score == (0, pytest.approx(km_along_a_meridian(2.5), rel=1e-9))
    (far_boards,) = best[1].lines[0].inputs
    assert far_boards.source.offer.id == "far-boards"
    assert far_boards.distance_km == pytest.approx(km_along_a_meridian(1.0), rel=1e-9)
    assert best[1].score == (0, pytest.approx(km_along_a_meridian(3.0), rel=1e-9))


def test_price_ranking_prefers_the_cheaper_and_still_reports_distances():
    network = on_the_equator()
    best = Weave(network, [Demand("box", 1)], ranking=PRICE).best(1)[0]
    (root,) = best.lines
    (boards,) = root.inputs
    assert boards.source.offer.id == "far-boards"
    assert best.score == (0, 1.0 + 2 * 1.0)
    assert boards.distance_km == pytest.approx(km_along_a_meridian(1.0), rel=1e-9)
    assert root.distance_km is None  # nowhere to deliver to was given


def boards_beside_lost_ones(price: float, ranking):
    """The boards of the best box when a supplier of no known place also sells them, at
    `price`."""
    network = on_the_equator().with_records(
        offers=[offer("lost-boards", "board", price=price, supplier="nowhere")]
    )
    best = Weave(network, [Demand("box", 1)], ranking=ranking).best(1)[0]
    (boards,) = best.lines[0].inputs
    return boards


def test_a_supplier_without_a_place_has_no_distance():
    boards = boards_beside_lost_ones(0.5, PRICE)
    assert boards.source.offer.id == "lost-boards"
    assert boards.distance_km is None


def test_distance_ranking_does_not_prefer_a_supplier_whose_place_is_unknown():
    boards = boards_beside_lost_ones(10.0, DISTANCE)
    assert boards.source.offer.id == "near-boards"


def test_risk_ranking_prefers_the_reliable_supplier():
    network = on_the_equator()
    best = Weave(network, [Demand("box", 1)], ranking=RISK).best(2)
    assert [p.lines[0].inputs[0].source.offer.id for p in best] == ["far-boards", "near-boards"]
    # −log p of success summed over the nodes; the shop's operator declared nothing: 5 %.
    shop_risk = -log(1 - 0.05)
    assert best[0].score == (0, pytest.approx(shop_risk - log(1 - 0.01)))
    assert best[1].score == (0, pytest.approx(shop_risk - log(1 - 0.3)))


@pytest.mark.parametrize("ranking", [PRICE, SOONEST])
def test_a_weave_let_go_is_freed_at_once(ranking):
    """What a weave makes is moved past the young generations of the cycle collector
    (`graph_walk`), so a weave must hold no cycle: let go, it is freed at once, not at the next
    full collection (a worker weaving order after order would otherwise hold them all)."""
    weave = Weave(wide_network(), [Demand("kit", 1)], ranking=ranking)
    weave.count()
    assert weave.best(2)
    graph = weakref.ref(weave._graph)
    del weave
    assert graph() is None
    assert gc.isenabled()
