"""One figure for a laptop, a phone and a projector: :func:`for_device` with ``"phone"`` stacks side-by-side panels
into rows, puts the legend below and wraps long labels; ``"projector"`` enlarges every font, line and marker;
``"screen"`` leaves the figure as it is. Pure functions: a figure in, a new figure out.
"""

from __future__ import annotations

import math
import re
import unicodedata

import plotly.graph_objects as go

from resnet_core.figures.ticks import axis_data, axis_key, axis_keys, axis_type, visible_axes

# ------------------------------------------------------------------------------------------ text wrapping
_TAG = re.compile(r"<[^>]+>")


def text_width(text: str) -> int:
    """Width in 'Latin letters': a wide (Hangul, CJK) character counts two; HTML tags nothing."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in _TAG.sub("", text))


def wrap(text: str | None, width: int) -> str | None:
    """Break ``text`` with ``<br>`` so no line is wider than ``width`` (see :func:`text_width`), at spaces and
    before "→"; a word wider than that stays whole. Existing ``<br>`` are kept."""
    if not text or width <= 0:
        return text
    out = []
    for segment in re.split(r"<br\s*/?>", text):
        pieces = []  # (glue before it, piece)
        for n, word in enumerate(w for w in segment.split(" ") if w):
            for k, part in enumerate(re.split(r"(?=→)", word)):
                if part:
                    pieces.append(("" if k else (" " if n else ""), part))
        line = ""
        for glue, part in pieces:
            if line and text_width(line + glue + part) > width:
                out.append(line)
                line = part
            else:
                line += glue + part
        out.append(line)
    return "<br>".join(out)


def _lines(text: str | None) -> int:
    return 0 if not text else len(re.split(r"<br\s*/?>", text))


# ------------------------------------------------------------------------------------------ devices
DEVICES = ("screen", "phone", "projector")

# Phone: a 390 px wide screen, about 360 px for the figure.
PHONE_PANEL_PX = 240
PHONE_CHARS = 48  # one line of 12 px text across the figure
LEGEND_ROW_PX = 22
CATEGORY_CHARS = 20  # a category label's line (the paired differences' "a − b")
# Projector: sizes in px.
PROJECTOR_TICK, PROJECTOR_TITLE, PROJECTOR_HEADING = 20, 24, 28
PROJECTOR_LINE, PROJECTOR_MARKER = 3, 10
PROJECTOR_WIDTH_PX = 1000  # presenter mode's page: 1200 px at most, less its padding


def for_device(fig: go.Figure, device: str) -> go.Figure:
    """The figure laid out for ``device`` ("screen", "phone", "projector"); a new figure, ``fig`` unchanged.

    - screen: as built;
    - phone: side-by-side chart panels (1×N, or any grid) re-laid out as one column of rows, each with its panel
      title above it and its own axis titles and tick labels; the legend horizontal below; small margins with
      ``automargin`` axes; long titles, axis titles and category labels wrapped to the width;
    - projector: ticks and legend 20 px, axis and panel titles 24 px, titles 28 px, lines at least 3 px, markers
      at least 10 px and error bars 2 px on every trace; the plot a third taller, the legend horizontal below it,
      titles wrapped to their panel at the presenter page's width (about 1000 px)."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, not {device!r}")
    fig = go.Figure(fig)
    if device == "phone":
        _phone(fig)
    elif device == "projector":
        _projector(fig)
    return fig


def _cells(fig: go.Figure) -> list[dict]:
    """Subplot panels: each x axis that overlays nothing, with the y axis it is anchored to and both domains."""
    cells = []
    for key in axis_keys(fig):
        xa = fig.layout[key]
        if key[0] != "x" or xa.overlaying:
            continue
        ykey = axis_key(xa.anchor if xa.anchor and xa.anchor != "free" else "y" + key[5:], "y")
        ya = fig.layout[ykey]
        cells.append(
            {
                "x": key,
                "y": ykey,
                "xd": tuple(round(v, 4) for v in (xa.domain or (0, 1))),
                "yd": tuple(round(v, 4) for v in (ya.domain or (0, 1))),
                "visible": xa.visible is not False or ya.visible is not False,
            }
        )
    return cells


def _legend_entries(fig: go.Figure) -> list[str]:
    if fig.layout.showlegend is False:
        return []
    names = [t.name for t in fig.data if t.type in ("scatter", "bar") and t.showlegend is not False and t.name]
    return names if len(names) > 1 or fig.layout.showlegend else []


def _phone_legend(fig: go.Figure, below_px: float, plot_px: float) -> int:
    """A horizontal legend below the plot, its entries in equal columns (as many as the longest name allows);
    returns its height in rows, title included."""
    names = _legend_entries(fig)
    lay = fig.layout
    if not names:
        return 0
    longest = max(text_width(n) for n in names) + 7  # the swatch and its gap
    columns = max(1, min(len(names), PHONE_CHARS // longest))
    lay.legend.update(
        orientation="h",
        x=0,
        xanchor="left",
        y=-below_px / plot_px,
        yanchor="top",
        entrywidth=1 / columns,
        entrywidthmode="fraction",
        tracegroupgap=2,
        traceorder="normal",  # grouped entries would stack in one column
        font=dict(size=11),
    )
    title = lay.legend.title.text
    if title:
        lay.legend.title.update(text=wrap(title, PHONE_CHARS), side="top")
    return math.ceil(len(names) / columns) + _lines(lay.legend.title.text)


def _subplot_titles(fig: go.Figure, cells: list[dict]) -> dict[int, int]:
    """Annotation index -> cell index, for the titles make_subplots puts above each panel."""
    found = {}
    for i, a in enumerate(fig.layout.annotations):
        if a.xref != "paper" or a.yref != "paper" or a.x is None or a.y is None:
            continue
        for j, c in enumerate(cells):
            if abs(a.x - (c["xd"][0] + c["xd"][1]) / 2) < 0.01 and abs(a.y - c["yd"][1]) < 0.01:
                found[i] = j
                break
    return found


def _phone(fig: go.Figure) -> None:
    lay = fig.layout
    cells = _cells(fig)
    charts = any(c["visible"] for c in cells)
    columns = len({c["xd"] for c in cells})
    titles = _subplot_titles(fig, cells)
    if lay.title.text:
        lay.title.update(text=wrap(lay.title.text, PHONE_CHARS - 6), font=dict(size=14), x=0, xanchor="left")
    for key in visible_axes(fig):
        axis = lay[key]
        axis.update(automargin=True, tickfont=dict(size=11), title_font=dict(size=13))
        if axis.title.text:
            axis.title.text = wrap(axis.title.text, PHONE_CHARS - 6 if key[0] == "x" else 34)
        if axis_type(fig, key) == "category" and axis.tickvals is None:
            cats = list(dict.fromkeys(v for v in axis_data(fig, key) if isinstance(v, str)))
            if any(text_width(c) > CATEGORY_CHARS for c in cats):  # long labels: wrapped, as tick text
                axis.update(tickmode="array", tickvals=cats, ticktext=[wrap(c, CATEGORY_CHARS) for c in cats])
    title_px = 22 * _lines(lay.title.text) + (6 if lay.title.text else 0)
    if charts and columns > 1:
        _stack(fig, cells, titles, title_px)
    else:
        _single(fig, titles, charts, columns, title_px)
    if lay.title.text:  # at the top; centred on its lines (plotly shifts a wrapped title anchored at its top or foot)
        y = 1 - (4 + 10 * _lines(lay.title.text)) / lay.height
        lay.title.update(y=y, yanchor="middle", yref="container", xref="container", x=0.02)


def _single(fig: go.Figure, titles: dict[int, int], charts: bool, columns: int, title_px: int) -> None:
    """One chart (or an image grid): small margins, the legend below."""
    lay = fig.layout
    if not charts:  # an image grid keeps its grid: titles smaller, wrapped to a column; a diagram's words smaller
        budget = max(8, (PHONE_CHARS * 5 // 4) // max(1, columns))
        for i, a in enumerate(lay.annotations):
            if i in titles:
                a.update(text=wrap(a.text, budget), font=dict(size=9))
            else:
                a.font.size = max(8, round((a.font.size or 12) * 0.7))
    top = title_px + max((11 * _lines(lay.annotations[i].text) for i in titles), default=0) + 12
    plot_px = (lay.height or 450) - (lay.margin.t if lay.margin.t is not None else 100)
    plot_px -= lay.margin.b if lay.margin.b is not None else 80
    plot_px = max(plot_px, 220 if charts else 120)
    ticktext = lay.yaxis.ticktext if lay.yaxis.tickmode == "array" and lay.yaxis.ticktext else ()
    plot_px = max(plot_px, sum(15 * _lines(t) + 12 for t in ticktext))  # wrapped category labels need their rows
    below = 34 + 16 * _lines(lay.xaxis.title.text) if charts and lay.xaxis.visible is not False else 8
    legend = _phone_legend(fig, below, plot_px)
    bottom = below + LEGEND_ROW_PX * legend + (8 if legend else 0)
    lay.update(height=round(top + plot_px + bottom), margin=dict(l=6, r=6, t=top, b=bottom))


def _stack(fig: go.Figure, cells: list[dict], titles: dict[int, int], title_px: int) -> None:
    """Every chart panel in one column, in reading order (top row first, left to right), each with its title."""
    lay = fig.layout
    order = sorted(range(len(cells)), key=lambda j: (-cells[j]["yd"][1], cells[j]["xd"][0]))
    # every panel reads on its own: its tick labels, and the axis titles its column (x) or row (y) had
    named = {letter: [lay[c[letter]].title.text for c in cells] for letter in "xy"}
    for letter, along in (("x", "xd"), ("y", "yd")):
        for j, c in enumerate(cells):
            axis = lay[c[letter]]
            axis.showticklabels = True
            if not named[letter][j]:
                same = [named[letter][k] for k, o in enumerate(cells) if o[along] == c[along] and named[letter][k]]
                axis.title.text = (same or [t for t in named[letter] if t] or [None])[0]
    title_of = {j: i for i, j in titles.items()}
    for i in titles:
        a = lay.annotations[i]
        a.update(text=wrap(a.text, PHONE_CHARS - 8), font=dict(size=14))
    subtitle_px = {j: 18 * _lines(lay.annotations[title_of[j]].text) if j in title_of else 0 for j in range(len(cells))}
    xtitle_px = {j: 16 * _lines(lay[cells[j]["x"]].title.text) for j in range(len(cells))}
    tops, y = [], 0.0
    for n, j in enumerate(order):
        if n:
            y += 44 + xtitle_px[order[n - 1]] + subtitle_px[j]
        tops.append(y)
        y += PHONE_PANEL_PX
    plot_px = y
    for n, j in enumerate(order):
        top, bottom = 1 - tops[n] / plot_px, 1 - (tops[n] + PHONE_PANEL_PX) / plot_px
        lay[cells[j]["x"]].domain = [0, 1]
        lay[cells[j]["y"]].domain = [max(0.0, bottom), min(1.0, top)]
        if j in title_of:
            lay.annotations[title_of[j]].update(x=0.5, y=min(1.0, top), xanchor="center", yanchor="bottom")
    for key in axis_keys(fig):  # overlaying axes follow their panel's domain
        axis = lay[key]
        if key[0] == "y" and axis.overlaying:
            axis.domain = lay[axis_key(axis.overlaying, "y")].domain
    below = 36 + xtitle_px[order[-1]]
    legend = _phone_legend(fig, below, plot_px)
    top = title_px + subtitle_px[order[0]] + 10
    bottom = below + LEGEND_ROW_PX * legend + (8 if legend else 0)
    lay.update(height=round(top + plot_px + bottom), margin=dict(l=6, r=6, t=top, b=bottom))


def _projector(fig: go.Figure) -> None:
    lay = fig.layout
    cells = _cells(fig)
    charts = any(c["visible"] for c in cells)
    t0 = lay.margin.t if lay.margin.t is not None else 100
    b0 = lay.margin.b if lay.margin.b is not None else 80
    plot_px = max((lay.height or 450) - t0 - b0, 250) * 4 / 3
    lay.font.size = PROJECTOR_TICK
    lay.title.font.size = PROJECTOR_HEADING
    lay.title.text = wrap(lay.title.text, int(PROJECTOR_WIDTH_PX / (0.55 * PROJECTOR_HEADING)))
    lay.legend.title.font.size = PROJECTOR_TICK
    lay.hoverlabel.font.size = PROJECTOR_TICK
    # axis titles wrapped to their panel at 24 px (two side-by-side panels share the width)
    per_char = 0.55 * PROJECTOR_TITLE
    for key in axis_keys(fig):
        axis = lay[key]
        axis.update(tickfont=dict(size=PROJECTOR_TICK), title_font=dict(size=PROJECTOR_TITLE), automargin=True)
        span = (axis.domain[1] - axis.domain[0]) if axis.domain else 1
        room = span * (PROJECTOR_WIDTH_PX if key[0] == "x" else plot_px)
        if key[0] == "x":  # less the tick labels of the y axis beside it (a bar chart's categories)
            ykey = axis_key(axis.anchor if axis.anchor and axis.anchor != "free" else "y" + key[5:], "y")
            labels = [str(v) for v in axis_data(fig, ykey) if isinstance(v, str)]
            room -= 0.55 * PROJECTOR_TICK * max((text_width(v) for v in labels), default=4)
        axis.title.text = wrap(axis.title.text, max(12, int(room / per_char)))
    titles = _subplot_titles(fig, cells)
    for i, a in enumerate(lay.annotations):
        if i in titles:
            xd = cells[titles[i]]["xd"]
            a.update(text=wrap(a.text, max(10, int((xd[1] - xd[0]) * PROJECTOR_WIDTH_PX / per_char))))
            a.font.size = PROJECTOR_TITLE if charts else PROJECTOR_TICK
        else:
            a.font.size = max(PROJECTOR_TICK - 2, round((a.font.size or 12) * 1.4))
    for s in lay.shapes:
        if s.line.width is None or 0 < s.line.width < PROJECTOR_LINE - 1:
            s.line.width = PROJECTOR_LINE - 1
    for trace in fig.data:
        _projector_trace(trace)
    # above the plot: the title and the panels' titles at their new sizes
    lines = _lines(lay.title.text)
    top = int(PROJECTOR_HEADING * 1.5) * lines + 16 if lines else 10
    top += max((int(PROJECTOR_TITLE * 1.35) * _lines(lay.annotations[i].text) for i in titles), default=0)
    # below: the bottom axis (ticks and title), then the legend, horizontal, in rows of the full width
    bottom_x = [c["x"] for c in cells if c["yd"][0] == min(c["yd"][0] for c in cells)] or ["xaxis"]
    below = 0
    if charts:
        below = int(PROJECTOR_TICK * 1.8) + max(
            int(PROJECTOR_TITLE * 1.3) * _lines(lay[k].title.text) for k in bottom_x
        )
    names = _legend_entries(fig)
    rows = 0
    if names:
        rows = _packed_rows(names, int(PROJECTOR_WIDTH_PX / (0.55 * PROJECTOR_TICK)))
        rows += _lines(lay.legend.title.text)
        lay.legend.update(
            orientation="h",
            x=0,
            xanchor="left",
            y=-(below + 8) / plot_px,
            yanchor="top",
            font=dict(size=PROJECTOR_TICK),
        )
        if lay.legend.title.text:
            lay.legend.title.side = "top"
    bottom = below + 16 + int(PROJECTOR_TICK * 1.6) * rows
    t = max(t0, top)
    b = max(b0, bottom) if charts or names else b0
    lay.update(height=round(t + plot_px + b), margin=dict(t=t, b=b))
    if lines:
        y = 1 - (6 + PROJECTOR_HEADING * 0.7 * lines) / lay.height
        lay.title.update(y=y, yanchor="middle", yref="container")


def _packed_rows(names: list[str], width: int) -> int:
    """Rows a horizontal legend of these entries fills, ``width`` letters a row (the swatch about 6)."""
    rows, used = 1, 0
    for name in names:
        w = text_width(name) + 6
        if used and used + w > width:
            rows, used = rows + 1, 0
        used += w
    return rows


def _projector_trace(trace) -> None:
    kind = trace.type
    if kind == "scatter":
        mode = trace.mode or ("lines" if trace.fill not in (None, "none") else "lines+markers")
        if "lines" in mode and trace.line.width != 0:
            trace.line.width = max(trace.line.width or 2, PROJECTOR_LINE)
        if "markers" in mode and not isinstance(trace.marker.size, tuple | list):
            trace.marker.size = max(trace.marker.size or 6, PROJECTOR_MARKER)
        if "text" in mode:
            trace.textfont.size = PROJECTOR_TICK - 2
    if kind in ("scatter", "bar"):
        for err in (trace.error_x, trace.error_y):
            if err.visible or err.array is not None:
                err.thickness = max(err.thickness or 2, PROJECTOR_LINE - 1)
                err.width = max(err.width or 4, 8)
    if kind in ("bar", "heatmap"):
        trace.textfont.size = PROJECTOR_TICK - 2
    if kind == "heatmap":
        trace.colorbar.tickfont.size = PROJECTOR_TICK
        trace.colorbar.title.font.size = PROJECTOR_TICK
