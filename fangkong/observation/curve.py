"""The temperature curve of a file as inline SVG, drawn on the server (no JavaScript library): one
point per report over the observation period, and the policy's fever threshold as a dashed line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 600, 180, 28
LOW, HIGH = 35.0, 41.0


def _y(value: float) -> float:
    value = min(max(value, LOW), HIGH)
    return PAD + (HIGH - value) / (HIGH - LOW) * (HEIGHT - 2 * PAD)


def temperature_svg(start: dt.date, end: dt.date, window_names: list[str], readings: list[tuple[dt.date, str, Decimal]],
                    threshold: float, label: str) -> SafeString:
    """`readings`: (date, window, temperature) in time order. Only numbers and escaped text go in."""
    per_day = max(len(window_names), 1)
    slots = max(((end - start).days + 1) * per_day, 2)
    order = {name: i for i, name in enumerate(window_names)}

    def x(day: dt.date, window: str) -> float:
        index = (day - start).days * per_day + order.get(window, 0)
        return PAD + index / (slots - 1) * (WIDTH - 2 * PAD)

    points = [(x(d, w), _y(float(t)), float(t)) for d, w, t in readings]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="temperature-curve" '
             f'role="img" aria-label="{escape(label)}">',
             f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>']
    for grid in (36, 37, 38, 39, 40):
        y = _y(grid)
        parts.append(f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text x="2" y="{y + 4:.1f}" font-size="10" fill="#888">{grid}</text>')
    ty = _y(threshold)
    parts.append(f'<line class="fever-line" x1="{PAD}" x2="{WIDTH - PAD}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#c0392b" '
                 f'stroke-dasharray="5 4"/><text x="{WIDTH - PAD - 40}" y="{ty - 4:.1f}" font-size="10" fill="#c0392b">'
                 f'{threshold:.1f}</text>')
    parts.append(f'<text x="{PAD}" y="{HEIGHT - 6}" font-size="10" fill="#888">{start:%m-%d}</text>'
                 f'<text x="{WIDTH - PAD - 28}" y="{HEIGHT - 6}" font-size="10" fill="#888">{end:%m-%d}</text>')
    if len(points) > 1:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _t in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#2c6fbb" stroke-width="2"/>')
    for px, py, t in points:
        colour = "#c0392b" if t >= threshold else "#2c6fbb"
        parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}"><title>{t:.1f}</title></circle>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (built from numbers and escaped text only)
