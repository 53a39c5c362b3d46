"""A few SVG drawing primitives: a plot area with nice axis ticks, lines, bars, labels (no matplotlib)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

__all__ = ["nice_ticks", "Plot", "document"]

FONT = "font-family='ui-sans-serif, system-ui, sans-serif' font-size='11'"
COLORS = {"p50": "#2563eb", "p95": "#d97706", "p99": "#dc2626", "max": "#9ca3af", "bars": "#60a5fa",
          "fail": "#dc2626", "axis": "#374151", "grid": "#e5e7eb"}


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 0.5:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.2e}"


class Plot:
    """A rectangle of the image mapped to data coordinates, with its axes and gridlines."""

    def __init__(self, x: float, y: float, width: float, height: float, xs: Sequence[float],
                 ys: Sequence[float], x_label: str = "", y_label: str = "") -> None:
        self.x, self.y, self.width, self.height = x, y, width, height
        self.x_ticks = nice_ticks(min(xs, default=0.0), max(xs, default=1.0))
        self.y_ticks = nice_ticks(0.0, max(ys, default=1.0) or 1.0, 4)
        self.x_label, self.y_label = x_label, y_label
        self.parts: list[str] = []

    def px(self, value: float) -> float:
        lo, hi = self.x_ticks[0], self.x_ticks[-1]
        return self.x + (value - lo) / ((hi - lo) or 1.0) * self.width

    def py(self, value: float) -> float:
        lo, hi = self.y_ticks[0], self.y_ticks[-1]
        return self.y + self.height - (value - lo) / ((hi - lo) or 1.0) * self.height

    def axes(self) -> None:
        p = self.parts
        for tick in self.y_ticks:
            y = self.py(tick)
            p.append(f"<line x1='{self.x:.1f}' y1='{y:.1f}' x2='{self.x + self.width:.1f}' y2='{y:.1f}' "
                     f"stroke='{COLORS['grid']}'/>")
            p.append(f"<text x='{self.x - 6:.1f}' y='{y + 4:.1f}' text-anchor='end' {FONT}>{_fmt(tick)}</text>")
        for tick in self.x_ticks:
            x = self.px(tick)
            bottom = self.y + self.height
            p.append(f"<line x1='{x:.1f}' y1='{bottom:.1f}' x2='{x:.1f}' y2='{bottom + 4:.1f}' "
                     f"stroke='{COLORS['axis']}'/>")
            p.append(f"<text x='{x:.1f}' y='{bottom + 16:.1f}' text-anchor='middle' {FONT}>{_fmt(tick)}</text>")
        p.append(f"<rect x='{self.x:.1f}' y='{self.y:.1f}' width='{self.width:.1f}' height='{self.height:.1f}' "
                 f"fill='none' stroke='{COLORS['axis']}'/>")
        if self.x_label:
            p.append(f"<text x='{self.x + self.width / 2:.1f}' y='{self.y + self.height + 32:.1f}' "
                     f"text-anchor='middle' {FONT}>{escape(self.x_label)}</text>")
        if self.y_label:
            cx, cy = self.x - 44, self.y + self.height / 2
            p.append(f"<text x='{cx:.1f}' y='{cy:.1f}' text-anchor='middle' transform='rotate(-90 {cx:.1f} "
                     f"{cy:.1f})' {FONT}>{escape(self.y_label)}</text>")

    def line(self, points: Sequence[tuple[float, float]], color: str, width: float = 1.5,
             dash: str = "") -> None:
        if not points:
            return
        path = " ".join(f"{self.px(x):.1f},{self.py(y):.1f}" for x, y in points)
        extra = f" stroke-dasharray='{dash}'" if dash else ""
        self.parts.append(f"<polyline points='{path}' fill='none' stroke='{color}' stroke-width='{width}'"
                          f"{extra}/>")
        if len(points) == 1:
            x, y = points[0]
            self.parts.append(f"<circle cx='{self.px(x):.1f}' cy='{self.py(y):.1f}' r='2.5' fill='{color}'/>")

    def bar(self, x0: float, x1: float, value: float, color: str, title: str = "") -> None:
        left, right = self.px(x0), self.px(x1)
        top, bottom = self.py(value), self.py(0.0)
        tip = f"<title>{escape(title)}</title>" if title else ""
        self.parts.append(f"<rect x='{left:.1f}' y='{top:.1f}' width='{max(right - left - 0.5, 0.5):.1f}' "
                          f"height='{max(bottom - top, 0.0):.1f}' fill='{color}'>{tip}</rect>")

    def vline(self, x: float, color: str, label: str, row: int = 0) -> None:
        """A dashed vertical marker; `row` staggers its label so that close markers stay readable."""
        px = self.px(x)
        self.parts.append(f"<line x1='{px:.1f}' y1='{self.y:.1f}' x2='{px:.1f}' y2='{self.y + self.height:.1f}' "
                          f"stroke='{color}' stroke-dasharray='4 3'/>")
        self.parts.append(f"<text x='{px + 3:.1f}' y='{self.y + 12 + 13 * row:.1f}' fill='{color}' {FONT}>"
                          f"{escape(label)}</text>")

    def legend(self, items: Sequence[tuple[str, str]]) -> None:
        """Coloured keys above the plot's right end."""
        widths = [20 + 7 * len(label) for label, _ in items]
        x = self.x + self.width - sum(widths)
        y = self.y - 16
        for (label, color), width in zip(items, widths, strict=True):
            self.parts.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='10' height='10' fill='{color}'/>")
            self.parts.append(f"<text x='{x + 14:.1f}' y='{y + 9:.1f}' {FONT}>{escape(label)}</text>")
            x += width


def document(width: int, height: int, title: str, plots: Sequence[Plot], subtitle: str = "") -> str:
    body = "\n".join(part for plot in plots for part in plot.parts)
    sub = (f"<text x='{width / 2:.1f}' y='38' text-anchor='middle' fill='#6b7280' {FONT}>{escape(subtitle)}</text>"
           if subtitle else "")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
            f"viewBox='0 0 {width} {height}'>\n<title>{escape(title)}</title>\n"
            f"<rect width='100%' height='100%' fill='white'/>\n"
            f"<text x='{width / 2:.1f}' y='22' text-anchor='middle' font-weight='bold' "
            f"font-family='ui-sans-serif, system-ui, sans-serif' font-size='14'>{escape(title)}</text>\n"
            f"{sub}\n{body}\n</svg>\n")
