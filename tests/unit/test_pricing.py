"""Pricing by hand: linear forms, the characteristic equation built by substitution up a plan,
the matrix Q and the price Jacobian of several plans, and the break-even of two plans.

The workshop below (every value worked out on paper):
  table  ← 4 leg + 1 top,     at bench (Bea), labour 30 per batch
  stool  ← 3 leg + 1 seat,    at bench (Bea), labour 12 per batch
  leg    ← 1 blank, yield 2,  at lathe (Tom), labour 3 per batch; or bought from Lou at 2.00
  blank 1.25 and top 20.00 from Sue; seat from Lou or Max, neither has said a price
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from core.network.model import Design, Facility, Item, Network, Offer, Participant
from core.pricing import LinearForm, PriceTable, break_even, plan_equation
from core.weave import Demand, Plan, PlanNode, Weave
from core.weave.sources import Bought, Made

# -- LinearForm -----------------------------------------------------------------------------------


def form(constant=0, **terms) -> LinearForm:
    result = LinearForm(constant=constant)
    for name, coefficient in terms.items():
        result = result + LinearForm.variable(name, coefficient)
    return result


def test_a_variable_is_a_form_with_one_term():
    x = LinearForm.variable("x", 3)
    assert dict(x.terms) == {"x": 3} and x.constant == 0
    assert x.coefficient("x") == 3 and x.coefficient("y") == 0


def test_adding_merges_terms_and_drops_those_that_cancel():
    a = form(2, x=2, y=3)
    b = form(5, x=-2, z=1)
    total = a + b
    assert dict(total.terms) == {"y": 3, "z": 1}
    assert total.constant == 7
    # the operands are untouched
    assert dict(a.terms) == {"x": 2, "y": 3} and dict(b.terms) == {"x": -2, "z": 1}


def test_subtracting_and_scaling():
    a = form(1, x=4, y=1)
    b = form(3, x=1, y=1)
    assert a - b == form(-2, x=3)
    assert (a - a).terms == {} and (a - a).constant == 0
    assert a.scaled(3) == form(3, x=12, y=3)
    assert a.scaled(0) == LinearForm()
    assert a.scaled(-1) + a == LinearForm()


def test_coefficients_stay_exact():
    third = LinearForm.variable("x", Fraction(1, 3))
    total = third + third + third
    assert total.coefficient("x") == 1 and type(total.coefficient("x")) is Fraction
    assert LinearForm.variable("x", 2).scaled(Fraction(1, 4)).coefficient("x") == Fraction(1, 2)
    # integers stay integers: quantities and batches
    assert type(form(x=4).scaled(3).coefficient("x")) is int


def test_evaluating_needs_every_value():
    f = form(1.5, x=2, y=3)
    assert f.unknowns({"x": 1.0}) == ["y"]
    assert f.evaluate({"x": 1.0}) is None
    assert f.evaluate({"x": 1.0, "y": 0.5}) == pytest.approx(1.5 + 2 + 1.5)
    assert LinearForm(constant=4).evaluate({}) == 4.0


def test_substituting_what_is_known_leaves_a_form_over_the_rest():
    f = form(1, x=2, y=3, z=1)
    rest = f.partially({"x": 2.5, "z": 4.0})
    assert dict(rest.terms) == {"y": 3}
    assert rest.constant == pytest.approx(1 + 5 + 4)
    assert rest.evaluate({"y": 2.0}) == pytest.approx(16.0)


def test_terms_cannot_be_changed_from_outside():
    f = form(x=1)
    with pytest.raises(TypeError):
        f.terms["x"] = 5  # type: ignore[index]


# -- a workshop to price --------------------------------------------------------------------------


def workshop() -> Network:
    return Network.of(
        participants=[
            Participant("bea", "Bea's Bench"),
            Participant("tom", "Tom Turner"),
            Participant("sue", "Sue Supplies"),
            Participant("lou", "Lou Lumber"),
            Participant("max", "Max Seats"),
        ],
        items=[
            Item("table", "Table"),
            Item("stool", "Stool"),
            Item("leg", "Leg"),
            Item("blank", "Blank"),
            Item("top", "Table top"),
            Item("seat", "Seat"),
        ],
        designs=[
            Design("make-table", "table", (("leg", 4), ("top", 1)), 1, frozenset({"glue"}), 30.0),
            Design("make-stool", "stool", (("leg", 3), ("seat", 1)), 1, frozenset({"glue"}), 12.0),
            Design("turn", "leg", (("blank", 1),), 2, frozenset({"turning"}), 3.0),
        ],
        facilities=[
            Facility("bench", "bea", frozenset({"glue"})),
            Facility("lathe", "tom", frozenset({"turning"})),
        ],
        offers=[
            Offer("sue-blanks", "sue", "blank", price=1.25),
            Offer("sue-tops", "sue", "top", price=20.0),
            Offer("lou-legs", "lou", "leg", price=2.0),
            Offer("lou-seats", "lou", "seat"),
            Offer("max-seats", "max", "seat"),
        ],
    )


def plan_where(network: Network, item: str, quantity: int, **choices: str) -> Plan:
    """The plan of the weave whose sources are the given ones (item → offer id or design id)."""
    for plan in Weave(network, [Demand(item, quantity)]).plans():
        chosen = {n.item: _source_id(n) for n in plan.nodes()}
        if all(chosen.get(k) == v for k, v in choices.items()):
            return plan
    raise AssertionError(f"no plan with {choices}")


def _source_id(node: PlanNode) -> str:
    return node.source.offer.id if isinstance(node.source, Bought) else node.source.design.id


TURNED = {"leg": "turn"}
BOUGHT = {"leg": "lou-legs"}


def test_the_equation_of_a_two_level_plan():
    network = workshop()
    plan = plan_where(network, "table", 2, **TURNED)
    # 2 tables: 2 batches at the bench; 8 legs: ⌈8/2⌉ = 4 batches at the lathe, 4 blanks; 2 tops
    equation = plan_equation(network, plan)
    assert dict(equation.form.terms) == {
        "K[make-table@bench]": 2,
        "K[turn@lathe]": 4,
        "p[sue-blanks]": 4,
        "p[sue-tops]": 2,
    }
    assert equation.form.constant == 0
    assert equation.text() == "P = 2·K + 4·K2 + 4·B + 2·T"
    assert equation.evaluated_text() == "P = 2·30 + 4·3 + 4·1.25 + 2·20 = 117"
    assert equation.price == pytest.approx(117.0)
    assert equation.unit_price == pytest.approx(58.5)
    assert equation.unknowns == []


def test_the_equation_is_the_substitution_of_its_sub_plans():
    network = workshop()
    plan = plan_where(network, "table", 2, **TURNED)
    (root,) = plan.lines
    legs, top = root.inputs
    whole = plan_equation(network, plan)
    of_legs = plan_equation(network, legs)
    of_top = plan_equation(network, top)
    # the legs on their own: 4 batches of turning and 4 blanks = 4·3 + 4·1.25 = 17
    assert of_legs.text() == "P = 4·K + 4·B"
    assert of_legs.price == pytest.approx(17.0)
    assert of_legs.quantity == 8 and of_legs.unit_price == pytest.approx(17.0 / 8)
    assert of_top.price == pytest.approx(40.0)
    labour = LinearForm.variable("K[make-table@bench]", root.batches)
    assert whole.form == labour + of_legs.form + of_top.form
    assert whole.price == pytest.approx(2 * 30.0 + of_legs.price + of_top.price)


def test_an_item_used_on_two_branches_is_one_variable_with_the_summed_coefficient():
    network = workshop().with_records(
        items=[Item("bench-seat", "Bench seat")],
        designs=[
            Design(
                "make-bench", "bench-seat", (("leg", 2), ("stool", 1)), 1, frozenset({"glue"}), 5.0
            )
        ],
    )
    plan = plan_where(network, "bench-seat", 1, leg="lou-legs", seat="lou-seats")
    equation = plan_equation(network, plan)
    # 2 legs for the bench itself, 3 for its stool: one variable p[lou-legs] with coefficient 5
    assert equation.form.coefficient("p[lou-legs]") == 5
    assert equation.text() == "P = K + 5·L + K2 + S"
    assert equation.unknowns == ["p[lou-seats]"]
    assert equation.evaluated_text() == "P = 5 + 5·2 + 12 + S = 27 + S"


def test_unknown_prices_stay_symbols_until_quoted():
    network = workshop()
    plan = plan_where(network, "stool", 3, leg="turn", seat="lou-seats")
    # 3 stools: 3 batches; 9 legs: ⌈9/2⌉ = 5 batches, 5 blanks; 3 seats at an unknown price
    equation = plan_equation(network, plan)
    assert equation.text() == "P = 3·K + 5·K2 + 5·B + 3·S"
    assert equation.price is None and equation.unit_price is None
    assert equation.unknowns == ["p[lou-seats]"]
    assert equation.evaluated_text() == "P = 3·12 + 5·3 + 5·1.25 + 3·S = 57.25 + 3·S"
    quoted = plan_equation(network, plan, quotes={"p[lou-seats]": 7.0})
    assert quoted.price == pytest.approx(57.25 + 21.0)
    assert quoted.unit_price == pytest.approx((57.25 + 21.0) / 3)
    # a quote overrides a listed price too
    cheaper = plan_equation(network, plan, quotes={"p[lou-seats]": 7.0, "p[sue-blanks]": 1.0})
    assert cheaper.price == pytest.approx(78.25 - 5 * 0.25)


def test_the_legend_names_each_letter_and_who_sets_it():
    network = workshop()
    equation = plan_equation(network, plan_where(network, "stool", 3, leg="turn", seat="lou-seats"))
    legend = equation.legend(network)
    assert [entry.split(" = ", 1)[0] for entry in legend] == ["K", "K2", "B", "S"]
    setters = ["Bea's Bench", "Tom Turner", "Sue Supplies", "Lou Lumber"]
    for entry, who in zip(legend, setters, strict=True):
        assert who in entry, entry
    assert "bench" in legend[0] and "lathe" in legend[1]  # where the labour is done
    assert "unknown" in legend[3]
    assert {n: (v.kind, v.setter) for n, v in equation.variables.items()} == {
        "K[make-stool@bench]": ("labour", "bea"),
        "K[turn@lathe]": ("labour", "tom"),
        "p[sue-blanks]": ("price", "sue"),
        "p[lou-seats]": ("price", "lou"),
    }


def test_labour_names_its_place_when_design_and_facility_ids_hold_an_at_sign():
    # Imported designs carry their version in the id (an OKH v1 `…@0.0.1`, an older LOSH
    # release `okh:github.com/o/r@1.0.1`): `design@facility` can no longer be split at an "@".
    network = Network.of(
        participants=[Participant("rob", "Rob's Kitchen")],
        items=[Item("cookies", "Cookies")],
        designs=[Design("cookies@0.0.1", "cookies")],
        facilities=[Facility("kitchen@rob", "rob", name="Rob's dessert kitchen")],
    )
    [plan] = Weave(network, [Demand("cookies", 12)]).plans()
    equation = plan_equation(network, plan)
    [variable] = equation.variables.values()
    assert (variable.source, variable.facility) == ("cookies@0.0.1@kitchen@rob", "kitchen@rob")
    [entry] = equation.legend(network)
    assert "labour per batch of Cookies at Rob's dessert kitchen, set by Rob's Kitchen" in entry


# -- letters ----------------------------------------------------------------------------------


def letters_network() -> Network:
    return Network.of(
        items=[
            Item("lamp-table", "Lamp table"),
            Item("leg", "Leg"),
            Item("lampshade", "Lampshade"),
            Item("light", "Light bulb"),
            Item("knob", "Knob"),
            Item("panel", "Panel"),
            Item("wikidata:Q1", "Drawer"),
            Item("4mm-dowel", "Dowel, 4 mm"),
            Item("drawer-front", "Front"),
        ],
        designs=[
            Design(
                "make",
                "lamp-table",
                (
                    ("leg", 4),
                    ("lampshade", 1),
                    ("light", 2),
                    ("knob", 1),
                    ("panel", 1),
                    ("wikidata:Q1", 1),
                    ("4mm-dowel", 8),
                ),
                processes=frozenset({"glue"}),
                labor=10.0,
            ),
            Design(
                "drawer",
                "wikidata:Q1",
                (("drawer-front", 1),),
                labor=2.0,
                processes=frozenset({"glue"}),
            ),
        ],  # fmt: skip
        facilities=[Facility("shop", None, frozenset({"glue"}))],
        offers=[
            Offer(f"o-{i}", None, i, price=1.0)
            for i in ("leg", "lampshade", "light", "knob", "panel", "4mm-dowel", "drawer-front")
        ],
    )


def test_letters_are_initials_numbered_when_they_repeat_and_k_is_labour():
    network = letters_network()
    (plan,) = Weave(network, [Demand("lamp-table", 1)]).plans()
    equation = plan_equation(network, plan)
    assert dict(equation.letters) == {
        "K[make@shop]": "K",
        "p[o-leg]": "L",
        "p[o-lampshade]": "L2",
        "p[o-light]": "L3",
        "p[o-knob]": "N",  # K is labour: the word's next letter
        "p[o-panel]": "A",  # P is the price itself
        "K[drawer@shop]": "K2",  # a second labour constant
        "p[o-drawer-front]": "D",  # the id is a word: its initial
        "p[o-4mm-dowel]": "D2",  # the id starts with a digit: the name's initial
    }
    assert equation.text() == "P = K + 4·L + L2 + 2·L3 + N + A + K2 + D + 8·D2"


def test_no_letter_clashes_with_the_total_and_a_letter_is_found_in_any_case():
    words = ("pp-sheet", "panel", "pla", "knob", "kit", "pk", "sheet")
    network = Network.of(
        items=[Item("visor", "Visor"), *(Item(w, w.title()) for w in words)],
        designs=[
            Design(
                "cut",
                "visor",
                tuple((w, 1) for w in words),
                processes=frozenset({"cut"}),
                labor=1.0,
            )
        ],
        facilities=[Facility("shop", None, frozenset({"cut"}))],
        offers=[Offer(f"o-{w}", None, w, price=1.0) for w in words],
    )
    (plan,) = Weave(network, [Demand("visor", 1)]).plans()
    equation = plan_equation(network, plan)
    letters = list(equation.letters.values())
    assert not any(letter.startswith("P") or "'" in letter for letter in letters)
    assert len({letter.upper() for letter in letters}) == len(letters)
    assert equation.letters["p[o-pp-sheet]"] == "S"  # the word that is not P
    assert equation.letters["p[o-sheet]"] == "S2"
    assert equation.find("s2") is equation.variables["p[o-sheet]"]
    assert equation.find("p[o-kit]") is equation.variables["p[o-kit]"]
    assert equation.find("Z9") is None


# -- Q and the Jacobian -----------------------------------------------------------------------


def three_equations():
    network = workshop()
    return {
        "table, turned legs": plan_equation(network, plan_where(network, "table", 2, **TURNED)),
        "table, bought legs": plan_equation(network, plan_where(network, "table", 2, **BOUGHT)),
        "stool": plan_equation(
            network, plan_where(network, "stool", 3, leg="turn", seat="lou-seats")
        ),
    }


def test_q_has_a_row_per_good_and_a_column_per_input_price():
    table = PriceTable.of(three_equations())
    assert table.goods == ("table, turned legs", "table, bought legs", "stool")
    assert table.variables == (
        "K[make-table@bench]",
        "K[turn@lathe]",
        "p[sue-blanks]",
        "p[sue-tops]",
        "p[lou-legs]",
        "K[make-stool@bench]",
        "p[lou-seats]",
    )
    np.testing.assert_array_equal(
        table.q,
        [
            [2, 4, 4, 2, 0, 0, 0],
            [2, 0, 0, 2, 8, 0, 0],
            [0, 5, 5, 0, 0, 3, 3],
        ],
    )
    np.testing.assert_array_equal(table.quantities, [2, 2, 3])
    np.testing.assert_array_equal(table.constants, [0, 0, 0])


def test_the_jacobian_is_q_per_unit():
    jacobian = PriceTable.of(three_equations()).jacobian()
    np.testing.assert_allclose(
        jacobian,
        [
            [1, 2, 2, 1, 0, 0, 0],
            [1, 0, 0, 1, 4, 0, 0],
            [0, 5 / 3, 5 / 3, 0, 0, 1, 1],
        ],
    )


def test_prices_are_q_times_p():
    equations = three_equations()
    table = PriceTable.of(equations)
    values = {
        "K[make-table@bench]": 30.0,
        "K[turn@lathe]": 3.0,
        "p[sue-blanks]": 1.25,
        "p[sue-tops]": 20.0,
        "p[lou-legs]": 2.0,
        "K[make-stool@bench]": 12.0,
        "p[lou-seats]": 7.0,
    }
    # 60 + 12 + 5 + 40; 60 + 40 + 16; 36 + 15 + 6.25 + 21
    np.testing.assert_allclose(table.prices(values), [117.0, 116.0, 78.25])
    # a moved input price moves each good's total by its column of Q
    moved = table.prices({**values, "K[turn@lathe]": 4.0})
    np.testing.assert_allclose(moved - table.prices(values), [4.0, 0.0, 5.0])
    with pytest.raises(KeyError, match="lou-seats"):
        table.prices({k: v for k, v in values.items() if k != "p[lou-seats]"})


# -- break-even -------------------------------------------------------------------------------


def test_turned_and_bought_legs_break_even():
    equations = three_equations()
    turned, bought = equations["table, turned legs"], equations["table, bought legs"]
    result = break_even(turned, bought)
    # turned − bought = 4·K_turn + 4·p_blank − 8·p_lou-legs (the labour and the tops cancel)
    assert dict(result.difference.terms) == {
        "K[turn@lathe]": 4,
        "p[sue-blanks]": 4,
        "p[lou-legs]": -8,
    }
    assert result.per_variable == pytest.approx(
        {
            "p[lou-legs]": 17 / 8,  # 8·x = 4·3 + 4·1.25 → Lou's legs tie at 2.125
            "K[turn@lathe]": 2.75,  # 4·k + 5 = 16
            "p[sue-blanks]": 1.0,  # 12 + 4·b = 16
        }
    )
    # at each of those values, the two plans really cost the same
    for name, value in result.per_variable.items():
        values = {**turned.values, **bought.values, name: value}
        assert turned.form.evaluate(values) == pytest.approx(bought.form.evaluate(values))


def test_two_leg_suppliers_tie_when_their_prices_are_equal():
    network = workshop().with_records(offers=[Offer("ann-legs", None, "leg", price=2.5)])
    ann = plan_equation(network, plan_where(network, "table", 1, leg="ann-legs"))
    lou = plan_equation(network, plan_where(network, "table", 1, leg="lou-legs"))
    result = break_even(ann, lou)
    assert dict(result.difference.terms) == {"p[ann-legs]": 4, "p[lou-legs]": -4}
    assert result.per_variable == pytest.approx({"p[ann-legs]": 2.0, "p[lou-legs]": 2.5})


def test_no_single_variable_break_even_when_two_unknowns_differ():
    network = workshop()
    lou = plan_equation(network, plan_where(network, "stool", 1, leg="lou-legs", seat="lou-seats"))
    max_ = plan_equation(network, plan_where(network, "stool", 1, leg="lou-legs", seat="max-seats"))
    result = break_even(lou, max_)
    assert dict(result.difference.terms) == {"p[lou-seats]": 1, "p[max-seats]": -1}
    assert result.difference.constant == 0
    assert result.per_variable == {}  # they tie wherever the two seats cost the same
    # once Max quotes, Lou's break-even is Max's price
    quoted = break_even(lou, max_, {"p[max-seats]": 8.0})
    assert quoted.per_variable == pytest.approx({"p[lou-seats]": 8.0})


def test_no_break_even_when_the_plans_differ_in_nothing_that_moves():
    network = workshop()
    plan = plan_where(network, "table", 1, **BOUGHT)
    equation = plan_equation(network, plan)
    result = break_even(equation, equation)
    assert result.difference == LinearForm()
    assert result.per_variable == {}


def test_equations_of_made_and_bought_nodes_by_hand_built_trees():
    """plan_equation on a tree assembled directly, without the weave."""
    network = workshop()
    turn, lathe = network.designs["turn"], network.facilities["lathe"]
    blanks = PlanNode("blank", 3, Bought(network.offers["sue-blanks"], 0))
    legs = PlanNode("leg", 5, Made(turn, lathe, 1), (blanks,))
    assert legs.batches == 3  # ⌈5/2⌉
    equation = plan_equation(network, legs)
    assert dict(equation.form.terms) == {"K[turn@lathe]": 3, "p[sue-blanks]": 3}
    assert equation.price == pytest.approx(3 * 3.0 + 3 * 1.25)


def test_a_price_below_the_cent_is_shown_as_it_is():
    """A box of 1000 screws at 0.004: the equation must not read `1000·0 = 6`."""
    network = Network.of(
        participants=[Participant("sc", "Screw Co")],
        items=[Item("box", "Box"), Item("screw", "Screw")],
        designs=[Design("fill", "box", (("screw", 1000),), labor=2.0)],
        facilities=[Facility("bench", None)],
        offers=[Offer("screws", "sc", "screw", price=0.004)],
    )
    (plan,) = Weave(network, [Demand("box", 1)]).plans()
    equation = plan_equation(network, plan)
    assert equation.price == pytest.approx(6.0)
    assert equation.evaluated_text() == "P = 2 + 1000·0.004 = 6"
    assert equation.legend(network)[1].endswith("= 0.004")
    quoted = plan_equation(network, plan, quotes={"p[screws]": 0.125})
    assert quoted.evaluated_text() == "P = 2 + 1000·0.125 = 127"
    assert quoted.legend(network)[0].endswith("= 2.00")
