"""Risk as pictures: PNG bytes, drawn with matplotlib (Agg, no display, no files).

Every chart is a horizontal bar chart read top to bottom in the order given, sized for a chat
window (at most MAX_WIDTH pixels wide) with a height that grows with the number of bars, so a
long list stays legible instead of being squeezed. An empty list gives a small picture that says
so in words: a blank chart would look like a failure to draw.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Collection, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

DPI = 100
MAX_WIDTH = 1280  # pixels: wider than this a chat client scales the picture down
WIDTH = 9.0  # inches, 900 px at DPI
BAR_HEIGHT = 0.34  # inches per bar
FRAME_HEIGHT = 1.3  # inches for title, axis and margins
MAX_BARS = 40  # beyond this the chart stops being read; the caller says what it left out
LABEL_WRAP = 34  # characters per line of a bar's label

CALM = "#5b8fd6"
WARNING = "#e03c31"
GOOD = "#3cb043"
MUTED = "#b0b0b0"


def stage_risk_png(
    title: str, stages: Sequence[tuple[str, float]], highlight: Collection[str] = ()
) -> bytes:
    """The failure probabilities of labelled stages (or plans, or anything), in percent, the
    first at the top; a label in `highlight` is drawn in the warning colour."""
    for label, p in stages:
        if not (isinstance(p, int | float) and 0.0 <= p <= 1.0):
            raise ValueError(f"{label}: a failure probability must be in [0, 1], not {p!r}")
    if not stages:
        return _message_png(title, "Nothing left to fail.")
    stages = list(stages)[:MAX_BARS]
    marked = set(highlight)
    figure, axes = _bar_figure(title, len(stages))
    values = [100.0 * p for _, p in stages]
    colours = [WARNING if label in marked else CALM for label, _ in stages]
    _bars(axes, [label for label, _ in stages], values, colours)
    axes.xaxis.set_major_formatter(PercentFormatter(decimals=None))
    axes.set_xlim(0, _upper(max(values), floor=1.0, ceiling=100.0))
    axes.set_xlabel("probability of failing")
    for y, value in enumerate(values):
        axes.text(value, y, f" {_percent(value)}", va="center", fontsize=8)
    return _png(figure)


def fragility_png(
    title: str,
    by_product: Sequence[tuple[str, float]],
    changes: Sequence[tuple[str, float]] = (),
    changes_title: str = "B falls by adding",
    changes_are_harm: bool = False,
) -> bytes:
    """Fragility in two panels: each product's expected loss, and a ranking of what changes B,
    each in the order given. A change is a reduction of B (drawn green when positive) or, with
    `changes_are_harm`, an increase (drawn red when positive: what losing a supplier costs)."""
    if not by_product and not changes:
        return _message_png(title, "Nothing is at stake.")
    panels = [(title, list(by_product)[:MAX_BARS])]
    if changes:
        panels.append((changes_title, list(changes)[:MAX_BARS]))
    rows = sum(len(bars) for _, bars in panels)
    height = FRAME_HEIGHT * len(panels) + BAR_HEIGHT * rows
    figure = _figure(height)
    grid = figure.add_gridspec(
        len(panels), 1, height_ratios=[max(1, len(bars)) + 2 for _, bars in panels]
    )
    for k, (heading, bars) in enumerate(panels):
        axes = figure.add_subplot(grid[k])
        axes.set_title(heading, loc="left", fontsize=11, fontweight="bold")
        if not bars:
            axes.axis("off")
            axes.text(0, 0.5, "(none)", fontsize=9, va="center")
            continue
        values = [v for _, v in bars]
        if k == 0:
            colours = [CALM] * len(bars)
        else:
            up, down = (WARNING, GOOD) if changes_are_harm else (GOOD, WARNING)
            colours = [up if v > 0 else down if v < 0 else MUTED for v in values]
        _bars(axes, [label for label, _ in bars], values, colours)
        low, high = min(0.0, *values), max(0.0, *values)
        span = (high - low) or 1.0
        axes.set_xlim(low - 0.05 * span * (low < 0), high + 0.18 * span)
        axes.axvline(0, color="#555555", linewidth=0.8)
        axes.set_xlabel("expected loss per period" if k == 0 else "change of B per period")
        for y, value in enumerate(values):
            axes.text(value, y, f" {value:,.4g}", va="center", fontsize=8)
    figure.tight_layout()
    return _png(figure, tight=False)


def survival_png(title: str, nodes: Sequence[tuple[str, float, float, bool]]) -> bytes:
    """Time to survive against time to recover per node (label, TTS, TTR, exposed), in days, in
    the order given. An infinite TTS is drawn to the edge and marked ∞; an exposed node's TTS
    bar is drawn in the warning colour."""
    if not nodes:
        return _message_png(title, "No node to lose.")
    nodes = list(nodes)[:MAX_BARS]
    figure, axes = _bar_figure(title, len(nodes), per_bar=1.5)
    finite = [v for _, tts, ttr, _ in nodes for v in (tts, ttr) if math.isfinite(v)]
    edge = _upper(max(finite, default=1.0), floor=1.0, ceiling=math.inf)
    half = 0.38
    labels = [label for label, *_ in nodes]
    ys = list(range(len(nodes)))
    tts = [min(t, edge) for _, t, _, _ in nodes]
    ttr = [min(r, edge) for _, _, r, _ in nodes]
    colours = [WARNING if exposed else GOOD for *_, exposed in nodes]
    axes.barh([y - half / 2 for y in ys], tts, height=half, color=colours)
    axes.barh([y + half / 2 for y in ys], ttr, height=half, color=MUTED)
    for y, (_, survive, recover, _) in zip(ys, nodes, strict=True):
        shown = "∞" if math.isinf(survive) else f"{survive:,.3g}"
        axes.text(min(survive, edge), y - half / 2, f" {shown}", va="center", fontsize=7.5)
        axes.text(min(recover, edge), y + half / 2, f" {recover:,.3g}", va="center", fontsize=7.5)
    axes.set_yticks(ys, [_wrap(label) for label in labels], fontsize=8.5)
    axes.invert_yaxis()
    axes.set_xlim(0, edge * 1.12)
    axes.set_xlabel("days")
    # Above the plot, right of the title: inside it would cover the longest bars.
    keys = [(GOOD, "time to survive"), (WARNING, "time to survive (exposed)")]
    keys.append((MUTED, "time to recover"))
    axes.legend(
        handles=[Patch(color=colour, label=text) for colour, text in keys],
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=3,
        fontsize=8,
        frameon=False,
    )
    axes.grid(axis="x", color="#e5e5e5")
    axes.set_axisbelow(True)
    return _png(figure)


# ── drawing ───────────────────────────────────────────────────────────────────────────────────


def _figure(height: float) -> Figure:
    figure = Figure(figsize=(min(WIDTH, MAX_WIDTH / DPI), height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _bar_figure(title: str, bars: int, per_bar: float = 1.0) -> tuple[Figure, object]:
    figure = _figure(FRAME_HEIGHT + BAR_HEIGHT * per_bar * bars)
    axes = figure.add_subplot()
    axes.set_title(title, loc="left", fontsize=11, fontweight="bold")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def _bars(axes, labels: list[str], values: list[float], colours: list[str]) -> None:
    ys = range(len(labels))
    axes.barh(ys, values, color=colours, height=0.7)
    axes.set_yticks(list(ys), [_wrap(label) for label in labels], fontsize=8.5)
    axes.invert_yaxis()  # the first of the list at the top
    axes.grid(axis="x", color="#e5e5e5")
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _message_png(title: str, message: str) -> bytes:
    figure = Figure(figsize=(6.0, 1.2), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.text(0.03, 0.72, title, fontsize=11, fontweight="bold", va="center")
    figure.text(0.03, 0.35, message, fontsize=10, va="center", color="#555555")
    return _png(figure, tight=False)


def _png(figure: Figure, tight: bool = True) -> bytes:
    if tight:
        figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _upper(largest: float, floor: float, ceiling: float) -> float:
    """Room right of the longest bar for its figure, within [floor, ceiling]."""
    return min(ceiling, max(floor, largest * 1.2))


def _percent(value: float) -> str:
    return f"{value:.2g} %" if value < 1 else f"{value:.1f} %"


def _wrap(label: str) -> str:
    return "\n".join(textwrap.wrap(label, LABEL_WRAP, max_lines=2, placeholder="…")) or label
