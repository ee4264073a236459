"""The stage graph as a picture: PNG bytes, drawn with matplotlib (Agg, no display, no files).

Layout, left to right: stages are layered by dependency depth counted back from the end
(networkx's topological generations of the reversed graph), so every line's `accept` is in
the last column and an input's `receive` sits in the column just before the `make` that waits
for it. Vertically the plan's tree is drawn as it is: each leaf node of the plan has its own
row, a node sits at the mean height of its inputs, and all the stages of one node share its
row. Colour is status: pending grey, done green, failed red.
"""

from __future__ import annotations

import io
import textwrap

import networkx as nx
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

from core.network.model import Network
from core.stages.graph import Stage, StageGraph, path_parts

COLOURS = {"pending": "#d9d9d9", "done": "#3cb043", "failed": "#e03c31"}
LAYER_WIDTH = 1.9  # inches from one column to the next
ROW_HEIGHT = 0.95  # inches from one row to the next
BOX = (1.55, 0.78)  # inches
MARGIN = 0.45
TITLE_HEIGHT = 0.45
LEGEND_HEIGHT = 0.65
DPI = 100
WRAP = 23  # characters per line in a box


def label(stage: Stage, network: Network) -> str:
    """`s7 make`, `Chair ×2`, `Ana's Woodshop`: id and kind, what, who."""
    item = network.items.get(stage.item)
    what = f"{item.name if item else stage.item} ×{stage.quantity}"
    if stage.owner is None:
        who = "(nobody yet)"
    else:
        person = network.participants.get(stage.owner)
        who = person.name if person else stage.owner
    return "\n".join([stage.label, *_wrap(what), *_wrap(who)])


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, WRAP, max_lines=2, placeholder="…") or [""]


def columns(graph: StageGraph) -> dict[str, int]:
    """Stage id → column: the last column holds the stages nothing waits for."""
    dag = nx.DiGraph()
    dag.add_nodes_from(s.id for s in graph)
    dag.add_edges_from((d, s.id) for s in graph for d in s.depends_on)
    generations = list(nx.topological_generations(dag.reverse(copy=False)))
    last = len(generations) - 1
    return {stage: last - g for g, generation in enumerate(generations) for stage in generation}


def rows(graph: StageGraph) -> dict[str, float]:
    """Plan node path → row (0 at the top): leaves in tree order, a node amid its inputs."""
    nodes = sorted({s.node for s in graph}, key=path_parts)
    children: dict[str, list[str]] = {node: [] for node in nodes}
    for node in nodes:
        parent = node.rpartition(".")[0]
        if parent in children:
            children[parent].append(node)
    row: dict[str, float] = {}
    for node in nodes:
        if not children[node]:
            row[node] = float(len(row))
    for node in reversed(nodes):  # a node's inputs come after it in tree order
        if children[node]:
            row[node] = sum(row[c] for c in children[node]) / len(children[node])
    return row


def render_png(graph: StageGraph, network: Network, title: str | None = None) -> bytes:
    column = columns(graph)
    row = rows(graph)
    n_columns = max(column.values(), default=0) + 1
    n_rows = max(row.values(), default=0) + 1
    title_height = TITLE_HEIGHT if title else 0.0
    width = n_columns * LAYER_WIDTH + 2 * MARGIN
    height = n_rows * ROW_HEIGHT + 2 * MARGIN + title_height + LEGEND_HEIGHT
    figure = Figure(figsize=(max(width, 4.0), height), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, max(width, 4.0))
    axes.set_ylim(0, height)
    axes.axis("off")

    top = height - MARGIN - title_height

    def centre(stage: Stage) -> tuple[float, float]:
        return (
            MARGIN + (column[stage.id] + 0.5) * LAYER_WIDTH,
            top - (row[stage.node] + 0.5) * ROW_HEIGHT,
        )

    half_width, half_height = BOX[0] / 2, BOX[1] / 2
    for stage in graph:
        x1, y1 = centre(stage)
        for dependency in stage.depends_on:
            x0, y0 = centre(graph[dependency])
            axes.add_patch(
                FancyArrowPatch(
                    (x0 + half_width, y0),
                    (x1 - half_width, y1),
                    arrowstyle="-|>",
                    mutation_scale=10,
                    color="#555555",
                    linewidth=0.8,
                    shrinkA=0,
                    shrinkB=0,
                )
            )
    for stage in graph:
        x, y = centre(stage)
        axes.add_patch(
            FancyBboxPatch(
                (x - half_width, y - half_height),
                BOX[0],
                BOX[1],
                boxstyle="round,pad=0,rounding_size=0.08",
                facecolor=COLOURS[stage.status],
                edgecolor="#333333",
                linewidth=0.8,
            )
        )
        axes.text(
            x, y, label(stage, network), ha="center", va="center", fontsize=7.5, linespacing=1.1
        )

    if title:
        middle = height - MARGIN / 2 - title_height / 2
        axes.text(MARGIN, middle, title, fontsize=11, fontweight="bold", va="center")
    done = sum(s.status == "done" for s in graph)
    axes.legend(
        handles=[
            Patch(facecolor=colour, edgecolor="#333333", label=status)
            for status, colour in COLOURS.items()
        ],
        loc="lower left",
        bbox_to_anchor=(MARGIN / max(width, 4.0), 0.05 / height),
        ncols=3,
        fontsize=8,
        frameon=False,
        title=f"{done} of {len(graph)} stages done",
        title_fontsize=8,
        alignment="left",
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
