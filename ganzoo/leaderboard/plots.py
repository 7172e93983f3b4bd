"""Learning curves as self-contained SVG: each metric against real training images seen, one line per series.

Hand-written SVG rather than a plotting library: the page must load nothing from elsewhere, the files are
a few kilobytes, and matplotlib is not a dependency.  Points are the mean over seeds, whiskers ± one
standard deviation; every point has a tooltip with its numbers.
"""

from __future__ import annotations

import html
import math
from typing import Sequence

from ganzoo.leaderboard.series import Series

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22")
PANEL_W, PANEL_H = 300, 200
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 52, 10, 26, 34
LEGEND_ROW = 18


def _ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values covering [low, high]."""
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    return [start + i * step for i in range(int(math.ceil((high - start) / step)) + 1)]


def _label(value: float, step: float) -> str:
    """A tick label with as many decimals as the tick spacing needs (thousands separated)."""
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
    return f"{value:,.{decimals}f}"


def _panel(series: Sequence[Series], key: str, title: str, lower_better: bool, x0: float, y0: float) -> str:
    """One metric's chart at (x0, y0)."""
    lines = [(index, s, [(p.images, p.mean(key), p.std(key), p) for p in s.points
                         if p.images is not None and p.mean(key) is not None])
             for index, s in enumerate(series)]
    points = [pt for _, _, pts in lines for pt in pts]
    if not points:
        return ""
    xs = [pt[0] / 1000 for pt in points]
    ys = [v for _, mean, std, _ in points for v in (mean - (std or 0), mean + (std or 0))]
    x_ticks, y_ticks = _ticks(0.0, max(xs) or 1.0), _ticks(min(ys), max(ys))
    x_lo, x_hi, y_lo, y_hi = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
    width, height = PANEL_W - MARGIN_L - MARGIN_R, PANEL_H - MARGIN_T - MARGIN_B
    sx = lambda x: x0 + MARGIN_L + (x - x_lo) / ((x_hi - x_lo) or 1) * width  # noqa: E731
    sy = lambda y: y0 + MARGIN_T + (1 - (y - y_lo) / ((y_hi - y_lo) or 1)) * height  # noqa: E731
    better = "lower" if lower_better else "higher"
    out = [f'<g class="panel" data-metric="{html.escape(key)}">',
           f'<text x="{x0 + PANEL_W / 2:.1f}" y="{y0 + 16:.1f}" text-anchor="middle" font-weight="bold">'
           f"{html.escape(title)} ({better} is better)</text>",
           f'<rect x="{x0 + MARGIN_L}" y="{y0 + MARGIN_T}" width="{width}" height="{height}" fill="none" '
           'stroke="#999"/>']
    for tick in x_ticks:
        out.append(f'<text x="{sx(tick):.1f}" y="{y0 + MARGIN_T + height + 13:.1f}" text-anchor="middle" '
                   f'font-size="10">{_label(tick, x_ticks[1] - x_ticks[0])}</text>')
    for tick in y_ticks:
        out.append(f'<line x1="{x0 + MARGIN_L}" x2="{x0 + MARGIN_L + width}" y1="{sy(tick):.1f}" y2="{sy(tick):.1f}" '
                   'stroke="#eee"/>')
        out.append(f'<text x="{x0 + MARGIN_L - 4}" y="{sy(tick) + 3:.1f}" text-anchor="end" font-size="10">'
                   f"{_label(tick, y_ticks[1] - y_ticks[0])}</text>")
    out.append(f'<text x="{x0 + MARGIN_L + width / 2:.1f}" y="{y0 + PANEL_H - 4:.1f}" text-anchor="middle" '
               'font-size="10">real training images seen (thousands)</text>')
    for index, s, pts in lines:
        if not pts:
            continue
        colour = PALETTE[index % len(PALETTE)]
        path = " ".join(f"{sx(x / 1000):.1f},{sy(mean):.1f}" for x, mean, _, _ in pts)
        out.append(f'<polyline class="curve" data-model="{html.escape(s.model)}" points="{path}" fill="none" '
                   f'stroke="{colour}" stroke-width="2"/>')
        for x, mean, std, point in pts:
            tip = (f"{s.model}, step {point.step} ({x / 1000:.3g}k images): {title} {mean:.4g}"
                   + (f" ± {std:.2g}" if std is not None else "") + f" over {len(point.values(key))} seed(s)")
            if std:
                out.append(f'<line x1="{sx(x / 1000):.1f}" x2="{sx(x / 1000):.1f}" y1="{sy(mean - std):.1f}" '
                           f'y2="{sy(mean + std):.1f}" stroke="{colour}"/>')
            out.append(f'<circle class="point" cx="{sx(x / 1000):.1f}" cy="{sy(mean):.1f}" r="3" fill="{colour}">'
                       f"<title>{html.escape(tip)}</title></circle>")
    out.append("</g>")
    return "".join(out)


def curves_svg(series: Sequence[Series], columns: Sequence[tuple[str, str, bool]], title: str = "",
               per_row: int = 3) -> str:
    """One SVG: a panel per metric in ``columns`` ((key, title, lower is better)), a shared legend."""
    panels = [column for column in columns if any(p.mean(column[0]) is not None for s in series for p in s.points)]
    if not panels:
        return ""
    rows = math.ceil(len(panels) / per_row)
    legend_top = rows * PANEL_H + 8
    width = min(len(panels), per_row) * PANEL_W
    height = legend_top + LEGEND_ROW * math.ceil(len(series) / 3) + 24
    body = [f'<svg xmlns="http://www.w3.org/2000/svg" class="curves" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
            f'<rect width="{width}" height="{height}" fill="white"/>']
    if title:
        body.append(f"<title>{html.escape(title)}</title>")
    for index, (key, name, lower) in enumerate(panels):
        body.append(_panel(series, key, name, lower, (index % per_row) * PANEL_W, (index // per_row) * PANEL_H))
    for index, s in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        x, y = 10 + (index % 3) * (width / 3), legend_top + 14 + (index // 3) * LEGEND_ROW
        body.append(f'<g class="legend" data-model="{html.escape(s.model)}"><rect x="{x:.0f}" y="{y - 9:.0f}" '
                    f'width="14" height="4" fill="{colour}"/><text x="{x + 20:.0f}" y="{y:.0f}">'
                    f"{html.escape(s.model)} ({len(s.final.entries)} seed(s))</text></g>")
    body.append("</svg>")
    return "".join(body)


def xy_curve_svg(points: Sequence[tuple[float, float, str]], x_title: str, y_title: str, title: str = "") -> str:
    """One curve through labelled ``(x, y, label)`` points, in order (a trade-off such as IS against FID)."""
    width, height = 2 * PANEL_W, 2 * PANEL_H
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x_ticks, y_ticks = _ticks(min(xs), max(xs)), _ticks(min(ys), max(ys))
    x_lo, x_hi, y_lo, y_hi = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
    inner_w, inner_h = width - MARGIN_L - MARGIN_R - 20, height - MARGIN_T - MARGIN_B - 10
    sx = lambda x: MARGIN_L + 10 + (x - x_lo) / ((x_hi - x_lo) or 1) * inner_w  # noqa: E731
    sy = lambda y: MARGIN_T + (1 - (y - y_lo) / ((y_hi - y_lo) or 1)) * inner_h  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           'font-size="11">',
           f'<text x="{width / 2:.1f}" y="16" text-anchor="middle" font-weight="bold">{html.escape(title)}</text>',
           f'<rect x="{MARGIN_L + 10}" y="{MARGIN_T}" width="{inner_w}" height="{inner_h}" fill="none" stroke="#999"/>']
    x_step, y_step = x_ticks[1] - x_ticks[0], y_ticks[1] - y_ticks[0]
    for tick in x_ticks:
        out.append(f'<text x="{sx(tick):.1f}" y="{MARGIN_T + inner_h + 14:.1f}" text-anchor="middle">'
                   f"{_label(tick, x_step)}</text>")
    for tick in y_ticks:
        out.append(f'<text x="{MARGIN_L + 6:.1f}" y="{sy(tick) + 4:.1f}" text-anchor="end">{_label(tick, y_step)}</text>')
    out.append(f'<text x="{MARGIN_L + 10 + inner_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
               f"{html.escape(x_title)}</text>")
    out.append(f'<text transform="translate(12,{MARGIN_T + inner_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
               f"{html.escape(y_title)}</text>")
    path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y, _ in points)
    out.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="1.5"/>')
    for x, y, label in points:
        out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{PALETTE[1]}">'
                   f"<title>{html.escape(label)}: x={x:.4g}, y={y:.4g}</title></circle>")
        out.append(f'<text x="{sx(x) + 6:.1f}" y="{sy(y) - 6:.1f}">{html.escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
