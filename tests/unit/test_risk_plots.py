"""Risk pictures (core.risk.plots): real PNGs a chat client can show, bars where the data says,
the warning colour only where asked, and a readable picture when there is nothing to draw."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from matplotlib.image import imread

from bots.png import png_size
from core.risk.plots import (
    CALM,
    GOOD,
    MAX_WIDTH,
    WARNING,
    fragility_png,
    stage_risk_png,
    survival_png,
)

STAGES = [
    ("s1 confirm · Chair leg · Bob's Hardwoods", 0.05),
    ("s2 make · Chair · Station North Turning Studio", 0.10),
    ("s3 accept · Chair · Dana", 0.02),
]


def pixels(png: bytes) -> np.ndarray:
    """Height × width × RGB, 0–255."""
    image = imread(io.BytesIO(png), format="png")
    return np.rint(image[..., :3] * 255).astype(int)


def mask(image: np.ndarray, colour: str) -> np.ndarray:
    rgb = np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)])
    return np.all(np.abs(image - rgb) <= 2, axis=-1)


def rows_of(image: np.ndarray, colour: str) -> np.ndarray:
    return np.flatnonzero(mask(image, colour).any(axis=1))


def columns_of(image: np.ndarray, colour: str) -> np.ndarray:
    return np.flatnonzero(mask(image, colour).any(axis=0))


def assert_chat_sized_png(png: bytes) -> tuple[int, int]:
    size = png_size(png)
    assert size is not None, "not a PNG"
    width, height = size
    assert 300 <= width <= MAX_WIDTH
    assert 100 <= height <= 2000
    assert 2_000 < len(png) < 400_000
    return size


# ── stage risk ───────────────────────────────────────────────────────────────────────────────


def test_stage_risk_is_a_chat_sized_png():
    assert_chat_sized_png(stage_risk_png("Chair ×2, plan #1", STAGES))


def test_only_highlighted_stages_are_drawn_in_the_warning_colour():
    plain = pixels(stage_risk_png("t", STAGES))
    marked = pixels(stage_risk_png("t", STAGES, highlight={STAGES[1][0]}))
    assert not mask(plain, WARNING).any()
    assert mask(marked, WARNING).sum() > 500  # a whole bar, not a stray pixel
    # The other two bars keep the calm colour.
    assert len(rows_of(marked, CALM)) > 0


def test_bars_run_top_down_in_the_order_given_and_their_length_is_the_probability():
    first_marked = pixels(stage_risk_png("t", STAGES, highlight={STAGES[0][0]}))
    last_marked = pixels(stage_risk_png("t", STAGES, highlight={STAGES[2][0]}))
    assert rows_of(first_marked, WARNING).max() < rows_of(last_marked, WARNING).min()
    # Bars start at the same x, so lengths compare as widths: 5 % against 2 %.
    first = columns_of(first_marked, WARNING)
    last = columns_of(last_marked, WARNING)
    assert first.min() == pytest.approx(last.min(), abs=2)
    ratio = (first.max() - first.min()) / (last.max() - last.min())
    assert ratio == pytest.approx(0.05 / 0.02, rel=0.05)


def test_more_stages_make_a_taller_picture_not_thinner_bars():
    few = png_size(stage_risk_png("t", STAGES))
    many = png_size(stage_risk_png("t", [(f"s{k} ship", 0.01 * k) for k in range(1, 25)]))
    assert many[0] == few[0]
    assert many[1] > few[1] * 3


def test_nothing_left_to_fail_is_a_small_picture():
    empty = stage_risk_png("Chair ×2: every stage done", [])
    width, height = png_size(empty)
    assert height < 200 and width <= MAX_WIDTH
    assert not mask(pixels(empty), CALM).any()


def test_a_probability_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="s9 ship"):
        stage_risk_png("t", [("s9 ship", 1.5)])
    stage_risk_png("t", [("certain", 1.0), ("never", 0.0)])  # the ends are fine


# ── fragility and survival ───────────────────────────────────────────────────────────────────


def test_fragility_draws_products_and_a_ranking_of_changes():
    one = fragility_png("B = 69", [("chair", 61.5), ("seat", 7.5)])
    two = fragility_png("B = 69", [("chair", 61.5), ("seat", 7.5)], [("gus-seats", 432.0)])
    assert_chat_sized_png(one)
    assert png_size(two)[1] > png_size(one)[1]
    # A reduction of B is good news, an increase from losing a supplier is harm.
    assert mask(pixels(two), GOOD).any() and not mask(pixels(two), WARNING).any()
    harm = fragility_png("B", [("chair", 61.5)], [("ana-shop", 254.0)], changes_are_harm=True)
    assert mask(pixels(harm), WARNING).any() and not mask(pixels(harm), GOOD).any()
    assert png_size(fragility_png("B = 0", [])) is not None


def test_survival_marks_exposed_nodes_and_survives_an_infinite_time():
    nodes = [("gus-backs", 3.0, 10.0, True), ("hal-shop", math.inf, 7.0, False)]
    png = survival_png("TTS vs TTR", nodes)
    assert_chat_sized_png(png)
    bars = pixels(png)[40:]  # below the title and the legend's swatches
    # Exposed above safe, as given.
    assert rows_of(bars, WARNING).max() < rows_of(bars, GOOD).min()
    # The infinite TTS reaches past every finite figure (10 days): 3 days is under a third.
    start = columns_of(bars, WARNING).min()
    infinite = columns_of(bars, GOOD).max() - start
    three_days = columns_of(bars, WARNING).max() - start
    assert infinite > three_days * 10 / 3
    assert png_size(survival_png("nothing", [])) is not None
