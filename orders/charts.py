"""Server-side SVG charts for the dashboard: no JavaScript library, readable on a phone.

Each chart is an `<svg role="img">` with a `<title>` and `<desc>` (its accessible name and
summary); the template puts the same numbers in a table beside it. The drawing uses a
small viewBox so that, scaled to a 340 px wide phone screen, its 12-unit labels still read
at about 10 px; tick labels are thinned so they never overlap.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from babel.numbers import format_compact_decimal
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, to_locale

from shopadmin.numerals import locale_digits

WIDTH = 400
BRAND = "#0b5cad"  # 6.5:1 on white: bars read as well as text (WCAG 1.4.11 asks 3:1)
PREVIOUS = "#4f5866"
GRID = "#d9dde3"
INK = "#1b1f24"


def _n(value: float) -> str:
    return f"{value:.1f}"


def _nice_max(value: Decimal) -> Decimal:
    """A round upper bound for the axis (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return Decimal(1)
    exponent = Decimal(value).adjusted()
    base = Decimal(10) ** exponent
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= base * step:
            return base * step
    return base * 10


def _locale() -> str:
    return to_locale(get_language() or "en")


def _compact(value: Decimal) -> str:
    """20K in English, 20 k in French, ২০ হা in Bengali (thousand), 12.5 لاکھ in Urdu (lakh)."""
    locale = _locale()
    text = format_compact_decimal(float(value), format_type="short", locale=locale, fraction_digits=2)
    return locale_digits(text, locale)


def _day(label: Callable, day) -> str:
    return locale_digits(str(label(day)), _locale())


def revenue_over_time(
    series: list[dict], *, title: str, desc: str, label: Callable, chart_id: str = "chart-time"
) -> SafeString:
    """Bars for this window's revenue per bucket, a dashed line for the previous window's."""
    height, left, right, top, bottom = 200, 40, 8, 10, 24
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = max([row["revenue"] for row in series] + [row["prev_revenue"] for row in series] + [Decimal(0)])
    top_value = _nice_max(peak)
    n = max(len(series), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.7, 1)

    def y(value) -> float:
        return top + plot_h - float(Decimal(value) / top_value) * plot_h

    parts = [
        format_html(
            '<svg id="{}" class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" '
            'preserveAspectRatio="xMidYMid meet" font-size="12" font-family="system-ui, sans-serif">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
            chart_id,
            WIDTH,
            height,
            chart_id,
            chart_id,
            chart_id,
            title,
            chart_id,
            desc,
        )
    ]
    for fraction in (0, 0.5, 1):
        value = top_value * Decimal(str(fraction))
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="1"/>'
                '<text x="{}" y="{}" text-anchor="end" fill="{}" aria-hidden="true">{}</text>',
                left,
                WIDTH - right,
                _n(y(value)),
                _n(y(value)),
                GRID,
                left - 4,
                _n(y(value) + 4),
                INK,
                _compact(value),
            )
        )
    every = max(1, -(-n // 6))  # at most six tick labels
    points = []
    for i, row in enumerate(series):
        x = left + i * slot + (slot - bar_w) / 2
        bar_top = y(row["revenue"])
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
                _n(x),
                _n(bar_top),
                _n(bar_w),
                _n(top + plot_h - bar_top),
                BRAND,
                _day(label, row["day"]),
                _compact(row["revenue"]),
            )
        )
        points.append(f"{left + i * slot + slot / 2:.1f},{y(row['prev_revenue']):.1f}")
        if i % every == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" fill="{}" aria-hidden="true">{}</text>',
                    _n(left + i * slot + slot / 2),
                    height - 6,
                    INK,
                    _day(label, row["day"]),
                )
            )
    if points:
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="5 3"/>',
                " ".join(points),
                PREVIOUS,
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308 — every piece was escaped by format_html


def revenue_by(rows: list, *, title: str, desc: str, chart_id: str = "chart-channel") -> SafeString:
    """One horizontal bar per row, the label above it and the amount at its end."""
    row_h, left, right = 40, 4, 64
    height = max(len(rows), 1) * row_h + 4
    peak = max([row.revenue for row in rows] + [Decimal(0)])
    top_value = peak if peak > 0 else Decimal(1)
    parts = [
        format_html(
            '<svg id="{}" class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" '
            'font-size="12" font-family="system-ui, sans-serif"><title id="{}-title">{}</title>'
            '<desc id="{}-desc">{}</desc>',
            chart_id,
            WIDTH,
            height,
            chart_id,
            chart_id,
            chart_id,
            title,
            chart_id,
            desc,
        )
    ]
    plot_w = WIDTH - left - right
    for i, row in enumerate(rows):
        y0 = i * row_h
        w = float(Decimal(row.revenue) / top_value) * plot_w
        prev_w = min(float(Decimal(row.prev_revenue) / top_value) * plot_w, plot_w)
        parts.append(
            format_html(
                '<text x="{}" y="{}" fill="{}" aria-hidden="true">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="14" rx="2" fill="{}"/>'
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="2"/>'
                '<text x="{}" y="{}" fill="{}" aria-hidden="true">{}</text>',
                left,
                y0 + 13,
                INK,
                row.label,
                left,
                y0 + 18,
                _n(max(w, 1)),
                BRAND,
                _n(left + prev_w),
                _n(left + prev_w),
                y0 + 16,
                y0 + 34,
                PREVIOUS,
                _n(left + max(w, 1) + 4),
                y0 + 30,
                INK,
                _compact(row.revenue),
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308
