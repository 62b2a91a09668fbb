"""Indicator trends as pictures: one line per district over the months, drawn with
matplotlib's object API (never pyplot: no display, no global figure state). No IO.

SVG keeps its text as text (`svg.fonttype: none`): district names can be searched and read by
a screen reader.
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


def trends(
    months: Sequence[str], series: Mapping[str, Sequence[float | None]], fmt: Format, title: str, ylabel: str
) -> bytes:
    """One line per district (name -> a value per month; None: no figure that month)."""
    with _LOCK, rc_context(_STYLE):
        fig = Figure(figsize=(8, 4))
        ax = fig.add_subplot()
        xs = list(range(len(months)))
        for district, values in sorted(series.items()):
            ys = [float("nan") if v is None else v for v in values]
            ax.plot(xs, ys, marker="o", markersize=3, label=district)
        ax.set_xticks(xs, list(months), rotation=45, ha="right")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if series:
            ax.legend(loc="best", fontsize=8)
        else:
            ax.text(0.5, 0.5, "no figures for these months", ha="center", va="center", transform=ax.transAxes)
        out = io.BytesIO()
        fig.savefig(
            out, format=fmt, dpi=100, bbox_inches="tight", metadata={"Date": None} if fmt == "svg" else None
        )
        return out.getvalue()


def negotiate(fmt: str | None, accept: str | None) -> Format | None:
    """The format asked for: `?format=` wins, else the Accept header (platform `negotiation`;
    image/* and */* get SVG); None when Accept admits neither (406)."""
    if fmt in ("svg", "png"):
        return fmt  # type: ignore[return-value]
    chosen = preferred(accept, ("image/svg+xml", "image/png"))
    return None if chosen is None else "svg" if chosen == "image/svg+xml" else "png"
