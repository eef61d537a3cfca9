"""Charts as plain SVG strings: horizontal bars, lines over days, a roll-rate heat table.

No JavaScript and no external resources, so a page, a PDF or an e-mail shows them alike.
Every label is escaped; the text uses the page's font (CJK included). Numbers are laid out
on a fixed grid so that the same figures always give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from debtflow.core.report.rates import ReportInputError
from debtflow.core.report.rolls import RollMatrix

PALETTE = ("#2f6fb0", "#d9822b", "#3a9a5b", "#b3404a", "#7b5ea7", "#5f6b7a")
TEXT = "#1f2933"
MUTED = "#6b7785"
GRID = "#d9dee5"


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _number(value: float) -> str:
    """Coordinates with at most one decimal, without a trailing '.0'."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _check(value: float | None, what: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise ReportInputError(f"{what} must be a finite, non-negative number, got {value!r}")


def _open(width: int, height: int, title: str, css_class: str) -> list[str]:
    label = escape(title, quote=True)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{label}" font-size="12" fill="{TEXT}">',
        f"<title>{escape(title)}</title>",
    ]


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: no figure (drawn as a dash, no bar)
    note: str = ""  # e.g. "12/40" beside the value


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    scale_max: float | None = None,
    formatter: Callable[[float], str] = percent,
    width: int = 600,
    no_data: str = "no data",
) -> str:
    """One horizontal bar per item, longest = ``scale_max`` (default: the largest value)."""
    for bar in bars:
        _check(bar.value, f"the value of {bar.label!r}")
    _check(scale_max, "scale_max")
    row, top, label_width, value_width = 22, 30, 150, 230
    height = top + 8 + max(1, len(bars)) * row
    parts = _open(width, height, title, "bar-chart")
    parts.append(f'<text x="4" y="16" font-weight="600">{escape(title)}</text>')
    values = [b.value for b in bars if b.value is not None]
    biggest = scale_max if scale_max is not None else max(values, default=0.0)
    track = width - label_width - value_width
    if not bars:
        parts.append(
            f'<text x="{width // 2}" y="{top + 15}" text-anchor="middle" fill="{MUTED}">'
            f"{escape(no_data)}</text>"
        )
    for index, bar in enumerate(bars):
        y = top + index * row
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">'
            f"{escape(_clip(bar.label, 18))}</text>"
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{track}" height="{row - 8}" '
            f'fill="{GRID}" opacity="0.45"/>'
        )
        if bar.value is None:
            shown = "—"
        else:
            length = track * min(bar.value / biggest, 1.0) if biggest > 0 else 0.0
            parts.append(
                f'<rect x="{label_width}" y="{y + 4}" width="{_number(length)}" '
                f'height="{row - 8}" fill="{PALETTE[0]}"/>'
            )
            shown = formatter(bar.value)
        note = f" ({bar.note})" if bar.note else ""
        parts.append(
            f'<text x="{label_width + track + 6}" y="{y + 15}">{escape(shown + note)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per x label; None leaves a gap


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    formatter: Callable[[float], str] = percent,
    width: int = 640,
    height: int = 220,
    no_data: str = "no data",
) -> str:
    """Lines over ``x_labels`` (e.g. days); the y axis runs from 0 to the largest value."""
    for line in series:
        if len(line.values) != len(x_labels):
            raise ReportInputError(f"series {line.name!r} has a value count unlike the x axis")
        for value in line.values:
            _check(value, f"a value of {line.name!r}")
    left, right, top, bottom = 64, 28, 14, 40
    parts = _open(width, height, title, "line-chart")
    values = [v for line in series for v in line.values if v is not None]
    plot_w, plot_h = width - left - right, height - top - bottom
    if not values:
        parts.append(
            f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" fill="{MUTED}">'
            f"{escape(no_data)}</text></svg>"
        )
        return "".join(parts)
    biggest = max(values) or 1.0
    step = plot_w / max(1, len(x_labels) - 1)

    def x_of(index: int) -> float:
        return left + (index * step if len(x_labels) > 1 else plot_w / 2)

    def y_of(value: float) -> float:
        return top + plot_h - plot_h * value / biggest

    for fraction in (0.0, 0.5, 1.0):
        y = y_of(biggest * fraction)
        parts.append(
            f'<line x1="{left}" y1="{_number(y)}" x2="{width - right}" y2="{_number(y)}" '
            f'stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{_number(y + 4)}" text-anchor="end" fill="{MUTED}">'
            f"{escape(formatter(biggest * fraction))}</text>"
        )
    every = max(1, math.ceil(len(x_labels) / 8))
    last = len(x_labels) - 1
    for index, label in enumerate(x_labels):
        if (index % every == 0 and last - index >= every / 2) or index == last:
            parts.append(
                f'<text x="{_number(x_of(index))}" y="{height - bottom + 16}" '
                f'text-anchor="middle" fill="{MUTED}">{escape(label)}</text>'
            )
    for number, line in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for index, value in enumerate(line.values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{_number(x_of(index))},{_number(y_of(value))}")
        for run in runs:
            if len(run) == 1:
                cx, cy = run[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
            elif run:
                parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                    f'points="{" ".join(run)}"/>'
                )
        legend_x = left + number * 160
        parts.append(
            f'<rect x="{legend_x}" y="{height - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{legend_x + 14}" y="{height - 5}">{escape(_clip(line.name, 20))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def heat_table(
    matrix: RollMatrix, *, title: str, start_label: str = "from", no_data: str = "no data"
) -> str:
    """Rows: bucket at the start of the month; columns: bucket at its end; each cell the
    share of the row's accounts, darker for more. The diagonal (stayed) is outlined."""
    buckets = matrix.buckets
    cell_w, cell_h, head = 58, 24, 70
    width = head + max(1, len(buckets)) * cell_w + 70
    height = cell_h * (len(buckets) + 1) + 8
    parts = _open(width, height, title, "heat-table")
    if not buckets:
        parts.append(
            f'<text x="{width // 2}" y="{cell_h}" text-anchor="middle" fill="{MUTED}">'
            f"{escape(no_data)}</text></svg>"
        )
        return "".join(parts)
    parts.append(f'<text x="4" y="16" fill="{MUTED}">{escape(start_label)}</text>')
    for column, bucket in enumerate(buckets):
        parts.append(
            f'<text x="{head + column * cell_w + cell_w // 2}" y="16" text-anchor="middle" '
            f'font-weight="600">{escape(bucket)}</text>'
        )
    parts.append(f'<text x="{head + len(buckets) * cell_w + 8}" y="16" fill="{MUTED}">n</text>')
    for row, start in enumerate(buckets):
        y = cell_h * (row + 1)
        total = matrix.starting(start)
        parts.append(
            f'<text x="{head - 8}" y="{y + 16}" text-anchor="end" font-weight="600">'
            f"{escape(start)}</text>"
        )
        for column, end in enumerate(buckets):
            x = head + column * cell_w
            share = matrix.share(start, end)
            shade = 0.0 if share is None else share
            outline = f' stroke="{TEXT}"' if start == end else ""
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{PALETTE[0]}" fill-opacity="{_number(0.08 + 0.85 * shade)}"{outline}/>'
            )
            if share:
                colour = "#ffffff" if shade > 0.55 else TEXT
                parts.append(
                    f'<text x="{x + cell_w // 2 - 1}" y="{y + 16}" text-anchor="middle" '
                    f'fill="{colour}">{escape(percent(share))}</text>'
                )
        parts.append(
            f'<text x="{head + len(buckets) * cell_w + 8}" y="{y + 16}" fill="{MUTED}">'
            f"{total}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
