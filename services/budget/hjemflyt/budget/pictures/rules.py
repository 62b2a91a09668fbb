"""Pictures as bytes: bar charts drawn with matplotlib's object API on the Agg (PNG) and SVG
renderers, never pyplot, so no display and no global figure state. No IO but the bytes.

SVG keeps its text as text (`svg.fonttype: none`), so unit names can be searched and read by
a screen reader, and the file stays small.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")  # headless, whatever MPLBACKEND says

from matplotlib import rc_context
from matplotlib.figure import Figure

from hjemflyt.shared.platform.negotiation import preferred

Format = Literal["svg", "png"]
CONTENT_TYPES: dict[str, str] = {"svg": "image/svg+xml", "png": "image/png"}
_STYLE: dict[Any, Any] = {"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "hjemflyt"}
# Font and text caches are shared between figures: one picture at a time.
_LOCK = threading.Lock()


def _kr(ore: int) -> str:
    return f"{ore / 100:,.0f} kr".replace(",", " ")


def _save(fig: Figure, fmt: Format) -> bytes:
    out = io.BytesIO()
    fig.savefig(
        out, format=fmt, dpi=100, bbox_inches="tight", metadata={"Date": None} if fmt == "svg" else None
    )
    return out.getvalue()


def _height(rows: int) -> float:
    return max(2.5, 0.6 + 0.35 * rows)


def allocation_per_unit(units: Sequence[tuple[str, int]], fmt: Format, title: str) -> bytes:
    """One horizontal bar per unit: its allocation in kroner."""
    with _LOCK, rc_context(_STYLE):
        fig = Figure(figsize=(8, _height(len(units))))
        ax = fig.add_subplot()
        names = [name for name, _ in units]
        amounts = [ore / 100 for _, ore in units]
        bars = ax.barh(range(len(units)), amounts, color="#3b6ea5")
        ax.set_yticks(range(len(units)), names)
        ax.invert_yaxis()
        ax.bar_label(bars, labels=[_kr(ore) for _, ore in units], padding=3)
        ax.set_xlabel("kr per year")
        ax.set_title(title)
        ax.margins(x=0.25)
        return _save(fig, fmt)


def levels_per_unit(
    counts: Mapping[str, Mapping[str, int]], levels: Sequence[str], fmt: Format, title: str
) -> bytes:
    """Stacked horizontal bars: persons per level at each unit (unit name -> level -> persons)."""
    with _LOCK, rc_context(_STYLE):
        fig = Figure(figsize=(8, _height(len(counts))))
        ax = fig.add_subplot()
        names = list(counts)
        left = [0] * len(names)
        colours = matplotlib.colormaps["viridis"]
        for i, level in enumerate(levels):
            widths = [counts[n].get(level, 0) for n in names]
            ax.barh(
                range(len(names)),
                widths,
                left=left,
                label=f"level {level}",
                color=colours(i / max(1, len(levels) - 1)),
            )
            left = [a + b for a, b in zip(left, widths, strict=True)]
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()
        ax.set_xlabel("persons")
        ax.set_title(title)
        if levels:
            ax.legend(loc="lower right", fontsize=8)
        return _save(fig, fmt)


def cliff_exposure(edges: Sequence[tuple[str, int, int, int]], fmt: Format, title: str) -> bytes:
    """Per band edge (label, persons below, persons above, money at stake in øre): persons
    just below and just above, with the money at stake written beside."""
    with _LOCK, rc_context(_STYLE):
        fig = Figure(figsize=(8, _height(2 * len(edges))))
        ax = fig.add_subplot()
        ys = range(len(edges))
        below = [b for _, b, _, _ in edges]
        above = [a for _, _, a, _ in edges]
        ax.barh([y - 0.2 for y in ys], below, height=0.4, label="just below the edge", color="#d9822b")
        bars = ax.barh([y + 0.2 for y in ys], above, height=0.4, label="just above the edge", color="#3b6ea5")
        ax.set_yticks(list(ys), [label for label, _, _, _ in edges])
        ax.invert_yaxis()
        ax.bar_label(bars, labels=[f"at stake {_kr(m)}" for _, _, _, m in edges], padding=3, fontsize=8)
        ax.set_xlabel("persons")
        ax.set_title(title)
        ax.margins(x=0.4)
        ax.legend(loc="lower right", fontsize=8)
        return _save(fig, fmt)


def negotiate(fmt: str | None, accept: str | None) -> Format | None:
    """The format asked for: `?format=` wins, else the Accept header (platform `negotiation`;
    image/* and */* get SVG); None when Accept admits neither (406)."""
    if fmt in ("svg", "png"):
        return fmt  # type: ignore[return-value]
    chosen = preferred(accept, ("image/svg+xml", "image/png"))
    return None if chosen is None else "svg" if chosen == "image/svg+xml" else "png"
