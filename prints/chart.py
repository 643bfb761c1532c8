"""An inline SVG chart of a print's predictions for the admin: no JavaScript, no chart library."""

from __future__ import annotations

import math
from collections.abc import Sequence

SERIES = (
    ("p", "#9e9e9e", "p"),
    ("ewm_mean", "#d62728", "ewm_mean"),
    ("rolling_mean_short", "#1f77b4", "rolling_mean_short"),
    ("rolling_mean_long", "#2ca02c", "rolling_mean_long"),
)
MAX_POINTS = 2000  # enough for a readable line; longer prints are evenly thinned


def timeline_svg(rows: Sequence[dict], *, width: int = 900, height: int = 260) -> str:
    """SVG markup plotting p and the three means (each in [0, 1]) against the prediction number.

    ``rows`` are dicts with the keys of ``SERIES``. Only numbers reach the markup, so it is safe to
    render as-is.
    """
    if not rows:
        return ""
    step = max(1, math.ceil(len(rows) / MAX_POINTS))
    rows = rows[::step]
    pad, legend = 30, 18
    plot_w, plot_h = width - 2 * pad, height - 2 * pad - legend
    span = max(1, len(rows) - 1)

    def point(i: int, value: float) -> str:
        x = pad + plot_w * i / span
        y = pad + plot_h * (1 - min(1.0, max(0.0, float(value))))
        return f"{x:.1f},{y:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Failure score over the print" style="background:#fff;border:1px solid #ddd">',
        f'<line x1="{pad}" y1="{pad + plot_h}" x2="{pad + plot_w}" y2="{pad + plot_h}" stroke="#ccc"/>',
        f'<text x="4" y="{pad + 4}" font-size="11">1</text><text x="4" y="{pad + plot_h + 4}" font-size="11">0</text>',
    ]
    for n, (key, color, label) in enumerate(SERIES):
        points = " ".join(point(i, row[key]) for i, row in enumerate(rows))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}"/>')
        x = pad + n * 170
        parts.append(f'<rect x="{x}" y="{height - legend}" width="12" height="3" fill="{color}"/>')
        parts.append(f'<text x="{x + 16}" y="{height - legend + 5}" font-size="11">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)
