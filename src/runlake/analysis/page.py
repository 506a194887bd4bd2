"""The report page's building blocks: the document and its policy, tables, inline SVG and
image grids, each as escaped HTML text.

Safety, in one place:

- every text that comes from records (prompts, model names, paths, the snapshot) goes
  through :func:`escape`; record text is untrusted;
- the only images are thumbnails embedded as ``data:`` URIs; the only script is ``SCRIPT``
  (sorting and filtering tables), inline, allowed by its SHA-256 hash;
- a ``Content-Security-Policy`` lets the browser load nothing else: ``default-src 'none'``,
  ``img-src data:``, ``style-src 'unsafe-inline'``, ``script-src 'sha256-...'``. It is the
  second guard behind escaping: an injected ``<script>`` or remote image would not run or
  load.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import polars as pl

from runlake.analysis.grid import FAIR, MISSING, SweepGrid
from runlake.analysis.thumbnails import Thumbnail
from runlake.defaults import DEFAULT_MIN_N

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_ROWS = 50
SCRIPT = """
(function () {
  "use strict";
  function key(cell) {
    var text = cell.textContent.trim();
    var number = text === "" ? NaN : Number(text.replace(/,/g, ""));
    return {empty: text === "", number: number, text: text};
  }
  function compare(a, b) {
    if (a.empty || b.empty) { return a.empty === b.empty ? 0 : (a.empty ? 1 : -1); }
    if (!isNaN(a.number) && !isNaN(b.number)) { return a.number - b.number; }
    return a.text.localeCompare(b.text);
  }
  function sortable(table, body, head) {
    Array.prototype.forEach.call(head.cells, function (th, index) {
      th.tabIndex = 0;
      th.title = "sort by " + th.textContent;
      function sort() {
        var up = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(head.cells, function (other) {
          other.removeAttribute("aria-sort");
        });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var order = compare(key(a.cells[index]), key(b.cells[index]));
          return up ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { sort(); }
      });
    });
  }
  function filterable(table, body) {
    var input = document.createElement("input");
    input.type = "search";
    input.placeholder = "filter rows";
    input.className = "filter";
    input.setAttribute("aria-label", "filter the rows of the table below");
    input.addEventListener("input", function () {
      var needle = input.value.toLowerCase();
      Array.prototype.forEach.call(body.rows, function (row) {
        row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) < 0;
      });
    });
    table.parentNode.insertBefore(input, table);
  }
  document.querySelectorAll("table.stats").forEach(function (table) {
    if (table.tBodies.length && table.tHead) {
      sortable(table, table.tBodies[0], table.tHead.rows[0]);
      filterable(table, table.tBodies[0]);
    }
  });
})();
"""
SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
CSP = (f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
       f"script-src '{SCRIPT_HASH}'; base-uri 'none'; form-action 'none'")
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1440px;
       color: #222; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; }
section { margin: 2.5rem 0; }
figure.plot { margin: 1rem 0; }
figure.plot svg { max-width: 100%; height: auto; }
figcaption, p.note { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }
td { max-width: 28rem; overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
table.stats th { cursor: pointer; }
th[aria-sort=ascending]::after { content: " \\25B2"; }
th[aria-sort=descending]::after { content: " \\25BC"; }
input.filter { display: block; margin: 0.5rem 0 0.2rem; padding: 0.2rem 0.4rem; }
p.empty, p.more { color: #777; font-style: italic; }
.grid-scroll { overflow-x: auto; }
table.grid td, table.grid th { border: none; vertical-align: top; padding: 0.3rem; }
table.grid th { background: none; text-align: center; font-weight: 600; }
table.grid th.row { text-align: right; vertical-align: middle; }
figure.cell { margin: 0; width: 192px; }
figure.cell img, .placeholder { display: block; width: 192px; height: auto;
                                border-radius: 4px; }
.placeholder { height: 144px; background: repeating-linear-gradient(45deg, #eee, #eee 8px,
               #f7f7f7 8px, #f7f7f7 16px); color: #666; display: flex; align-items: center;
               justify-content: center; text-align: center; font-size: 0.8rem;
               border: 1px dashed #bbb; box-sizing: border-box; padding: 0.5rem; }
figure.cell figcaption { font-size: 0.75rem; line-height: 1.3; color: #333;
                         font-variant-numeric: tabular-nums; }
figure.cell.rank1 img, figure.cell.rank1 .placeholder { outline: 3px solid #2a7; }
figure.cell .other { color: #a60; }
td.not-run { color: #999; font-size: 0.8rem; text-align: center; vertical-align: middle; }
td.thumb img, td.thumb .placeholder { width: 96px; height: auto; }
td.thumb .placeholder { height: 72px; font-size: 0.7rem; }
"""
_SVG_START = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ID = re.compile(r'(\bid="|xlink:href="#|\burl\(#)([^")]+)')


def escape(text: str) -> str:
    """``text`` safe inside HTML text and quoted attributes."""
    return html.escape(text, quote=True)


def document(title: str, body: str) -> str:
    """The whole page: policy, styles, ``body`` and the table script."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"referrer\" content=\"no-referrer\">\n"
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def section(element_id: str, heading: str, *parts: str) -> str:
    inner = "\n".join(part for part in parts if part)
    return (f'<section id="{escape(element_id)}">\n<h2>{escape(heading)}</h2>\n{inner}\n'
            "</section>")


def note(text: str, *, kind: str = "note") -> str:
    return f'<p class="{kind}">{escape(text)}</p>'


def html_table(frame: pl.DataFrame, *, element_id: str, columns: Sequence[str] = (),
               max_rows: int = MAX_ROWS, more: str = "") -> str:
    """``frame`` (or its ``columns`` that exist) as an escaped, sortable HTML table of at
    most ``max_rows`` rows, then a line saying how many more there are (and ``more``)."""
    names = [name for name in columns if name in frame.columns] or frame.columns
    head = "".join(f"<th>{escape(name)}</th>" for name in names)
    # By position: a knob may be named "*" or "^...$", which select would read as a pattern.
    shown = frame.select(pl.nth([frame.columns.index(name) for name in names])).head(max_rows)
    rows = "\n".join(_tr(row) for row in shown.iter_rows())
    table = (f'<table class="stats" id="{escape(element_id)}">\n'
             f"<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>")
    hidden = frame.height - shown.height
    if hidden > 0:
        table += "\n" + note(f"… {hidden:,} more rows not shown{more}.", kind="more")
    return table


def figure_svg(figure: Figure, element_id: str) -> str:
    """``figure`` as an ``<svg>`` element to inline in HTML: no XML prolog, no namespace
    URLs, no comments, and every internal id prefixed with ``element_id`` so several
    figures on one page never share an id."""
    import matplotlib  # noqa: PLC0415 - matplotlib only when a page is rendered

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "runlake", "svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None,
                                                       "Format": None, "Type": None})
    svg = _COMMENT.sub("", _XMLNS.sub("", _SVG_START.sub("", buffer.getvalue(), count=1)))
    svg = _ID.sub(lambda match: f"{match[1]}{element_id}-{match[2]}", svg)
    label = escape(element_id.replace("-", " "))
    return svg.replace("<svg", f'<svg role="img" aria-label="{label}"', 1)


def plot(element_id: str, figure: Figure, caption: str) -> str:
    return (f'<figure class="plot" id="{escape(element_id)}">\n'
            f"{figure_svg(figure, element_id)}\n"
            f"<figcaption>{escape(caption)}</figcaption>\n</figure>")


def image(thumb: Thumbnail | None, *, alt: str) -> str:
    """The thumbnail as an ``<img>``, or a labelled placeholder saying why there is none."""
    if thumb is None or thumb.webp is None:
        problem = thumb.problem if thumb is not None else "no image recorded"
        label = escape(problem or "no image")
        return f'<div class="placeholder" role="img" aria-label="{label}">{label}</div>'
    return (f'<img src="{thumb.data_uri()}" width="{thumb.width}" height="{thumb.height}" '
            f'alt="{escape(alt)}" title="{escape(alt)}">')


def grid_table(grid: SweepGrid, thumbs: Mapping[str | None, Thumbnail], *, element_id: str,
               metric: str) -> str:
    """``grid`` as a table of thumbnails: a column per ``x`` value, a row per ``y`` value,
    under each image the cell's mean, interval, n and rank."""
    cells = grid.cell_map()
    head = "".join(f'<th scope="col">{escape(_value(x))}</th>' for x in grid.xs)
    corner = escape(f"{grid.y} \\ {grid.x}" if grid.y else grid.x)
    rows = []
    for y in grid.ys:
        label = f'<th scope="row" class="row">{escape(_value(y))}</th>' if grid.y else ""
        tds = "".join(_grid_cell(cells.get((y, x)), thumbs, metric) for x in grid.xs)
        rows.append(f"<tr>{label}{tds}</tr>")
    corner_th = f"<th>{corner}</th>" if grid.y else ""
    return (f'<div class="grid-scroll"><table class="grid" id="{escape(element_id)}">\n'
            f"<thead><tr>{corner_th}{head}</tr></thead>\n<tbody>\n" + "\n".join(rows)
            + "\n</tbody>\n</table></div>")


def _grid_cell(cell: Mapping[str, object] | None, thumbs: Mapping[str | None, Thumbnail],
               metric: str) -> str:
    if cell is None:
        return '<td class="not-run">not run</td>'
    path = cell["image_path"]
    thumb = thumbs.get(path if isinstance(path, str) else None)
    rank = cell["rank"]
    classes = "cell rank1" if rank == 1 else "cell"
    return (f'<td><figure class="{classes}">{image(thumb, alt=_alt(cell))}'
            f"<figcaption>{_caption(cell, metric)}</figcaption></figure></td>")


def _caption(cell: Mapping[str, object], metric: str) -> str:
    mean, low, high = cell["mean"], cell["ci_low"], cell["ci_high"]
    interval = (f" [{_number(low)}, {_number(high)}]" if low is not None and high is not None
                else "")
    rank = f" · rank {cell['rank']}" if cell["rank"] is not None else f" · {_unranked(cell)}"
    first = f"{escape(metric)} {_number(mean)}{interval}" if mean is not None else (
        f"no {escape(metric)}")
    shown = "" if cell["shown"] == FAIR or cell["image_path"] is None else (
        '<br><span class="other">best run shown (other prompt or seed)</span>')
    return f"{first}<br>n {cell['n']}{rank}{shown}"


def _unranked(cell: Mapping[str, object]) -> str:
    """Why compare gave the cell no rank: too few values, or none."""
    n = cell["n"]
    if isinstance(n, int) and 0 < n < DEFAULT_MIN_N:
        return f"not ranked (n &lt; {DEFAULT_MIN_N})"
    return "not ranked"


def _alt(cell: Mapping[str, object]) -> str:
    prompt = _value(cell["prompt"])
    return f"{prompt[:160]} (seed {_value(cell['seed'])}, run {_value(cell['record_id'])})"


def _number(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else escape(_value(value))


def _value(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def table_cell(value: object) -> str:
    """One escaped ``<td>``; numbers right-aligned, floats with two decimals."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="num">{escape(_cell(value))}</td>'
    return f"<td>{escape(_cell(value))}</td>"


def _tr(row: Iterable[object]) -> str:
    return "<tr>" + "".join(table_cell(value) for value in row) + "</tr>"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
