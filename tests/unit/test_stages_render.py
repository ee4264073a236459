"""The stage graph's picture: a real PNG, sized to its graph, coloured by status."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from functools import cache

import numpy as np
from chair_files import chair_network
from matplotlib import image

from core.network.model import Design, Facility, Item, Network, Offer, Participant
from core.stages import Assertion, Stage, StageGraph, plan_stages, replay
from core.stages.render import COLOURS, label, render_png
from core.weave import Demand, Weave

NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@cache
def chair() -> tuple[Network, StageGraph]:
    network = chair_network()
    plan = Weave(network, [Demand("chair", 2)]).best(1)[0]
    return network, plan_stages(network, plan, buyer="dana")


def pixels(png: bytes) -> np.ndarray:
    """RGB in 0–255."""
    return np.rint(image.imread(io.BytesIO(png), format="png")[..., :3] * 255).astype(int)


def count_colour(rgb: np.ndarray, hex_colour: str, tolerance: int = 6) -> int:
    wanted = np.array([int(hex_colour[k : k + 2], 16) for k in (1, 3, 5)])
    return int((np.abs(rgb - wanted).max(axis=-1) <= tolerance).sum())


def test_png_bytes_of_the_chair_graph():
    network, graph = chair()
    png = render_png(graph, network, title="Order 7: chair ×2")
    assert png[:8] == PNG_MAGIC
    height, width, _ = image.imread(io.BytesIO(png), format="png").shape
    # 8 columns (confirm, ship, receive, make, inspect, ship, receive, accept), 3 rows.
    assert 1300 <= width <= 1900
    assert 300 <= height <= 600
    assert width > 3 * height


def test_a_done_stage_is_green_and_a_failed_one_red():
    network, graph = chair()
    before = pixels(render_png(graph, network))
    after_graph = replay(
        graph, [Assertion("s1", "done", "fern", NOON), Assertion("s5", "failed", "gus", NOON)]
    )
    after = pixels(render_png(after_graph, network))
    # The legend shows every colour once; a stage's box adds some 10 000 pixels of it.
    assert count_colour(after, COLOURS["done"]) - count_colour(before, COLOURS["done"]) > 5000
    assert count_colour(after, COLOURS["failed"]) - count_colour(before, COLOURS["failed"]) > 5000
    assert count_colour(before, COLOURS["pending"]) > count_colour(after, COLOURS["pending"])


def test_labels_name_the_stage_the_item_and_the_owner():
    network, graph = chair()
    assert label(graph["s10"], network) == "s10 make\nChair ×2\nAna's Woodshop"
    assert label(graph["s14"], network).splitlines()[:2] == ["s14 accept", "Chair ×2"]
    unowned = Stage("s1", "receive", "maple-board", 2, None, "0", None)
    assert label(unowned, network).splitlines() == [
        "s1 receive",
        "Maple board, 2 × 2 in ×",
        "36 in ×2",
        "(nobody yet)",
    ]


def forty_stage_network() -> Network:
    """A root made from 4 parts, each made from 2 bought materials: 24 + 16 + 5 = 45 stages."""
    parts = [f"part{k}" for k in range(4)]
    materials = [f"mat{k}" for k in range(8)]
    return Network.of(
        participants=[
            Participant("maker", "Community Fab Lab of the East Side"),
            Participant("sup", "Supplier"),
        ],
        items=[Item(i, i.capitalize()) for i in ("kit", *parts, *materials)],
        designs=[Design("kit-d", "kit", inputs=tuple((p, 1) for p in parts))]
        + [
            Design(f"{p}-d", p, inputs=((materials[2 * k], 2), (materials[2 * k + 1], 1)))
            for k, p in enumerate(parts)
        ],
        facilities=[Facility("lab", "maker")],
        offers=[Offer(f"o-{m}", "sup", m, price=1.0) for m in materials],
    )


def test_forty_stages_fit_a_picture_a_person_can_read():
    network = forty_stage_network()
    plan = Weave(network, [Demand("kit", 3)]).best(1)[0]
    graph = plan_stages(network, plan, buyer="maker")
    assert len(graph) == 45
    png = render_png(graph, network)
    height, width, _ = image.imread(io.BytesIO(png), format="png").shape
    # 12 columns × 8 rows at a fixed scale: no box is squeezed below its text.
    assert 2000 <= width <= 2600
    assert 800 <= height <= 1000
