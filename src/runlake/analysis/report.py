"""``render_report``: one static HTML file with the sweep's plots and tables.

The page needs nothing but itself: figures are inline SVG (matplotlib, text drawn as paths,
so no font is needed either), styles are inline, there is no script and no URL, and a
Content-Security-Policy forbids fetching anything or running a script, as a second guard
behind escaping. Every text that comes from records (prompts, model names, experiment names,
the snapshot) is escaped with ``html.escape``: record text is untrusted.

Each figure is ``<figure class="plot" id="...">`` with ids ``heatmap``, ``cfg-curves``,
``variants``, ``duration``; each table ``<table class="stats" id="<figure id>-table">``.
The same frame and snapshot give the same bytes (the SVG ids are salted with a constant).
"""

from __future__ import annotations

import html
import io
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from runlake.analysis.rated import read_rated
from runlake.errors import LakeError
from runlake.storage import LakePaths, storage_error

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BEST_RUNS = 10
CSP = "default-src 'none'; style-src 'unsafe-inline'"
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #222; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; }
section { margin: 2.5rem 0; }
figure.plot { margin: 1rem 0; }
figure.plot svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }
td { max-width: 28rem; overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
p.empty { color: #777; font-style: italic; }
"""
_SVG_START = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ID = re.compile(r'(\bid="|xlink:href="#|\burl\(#)([^")]+)')


@dataclass(frozen=True)
class Section:
    """One part of the report: a heading, a sentence, a figure and its table."""

    id: str
    heading: str
    caption: str
    figure: Callable[[pl.DataFrame], Figure]
    table: Callable[[pl.DataFrame], pl.DataFrame]
    columns: tuple[str, ...]


def render_report(
    frame: pl.DataFrame, *, title: str = "runlake report",
    snapshot: Mapping[str, object] | None = None,
) -> str:
    """The whole HTML document for ``frame`` (the joined, normalized runs).

    ``snapshot`` (table versions, the lake root, ...) is shown in the header.
    """
    parts = [_header(title, frame, snapshot or {})]
    parts += [_section(section, frame) for section in _sections()]
    parts.append(_best_runs(frame))
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def write_report(
    frame: pl.DataFrame, out: Path, *, title: str = "runlake report",
    snapshot: Mapping[str, object] | None = None,
) -> Path:
    """Write :func:`render_report` to ``out`` (UTF-8, replaced atomically); returns ``out``."""
    text = render_report(frame, title=title, snapshot=snapshot)
    out = Path(out)
    temporary = out.with_name(f".{out.name}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, out)
    except OSError as exc:
        temporary.unlink(missing_ok=True)  # a full disk must not leave half a page behind
        raise storage_error(exc, out, doing=f"write the report to {out}") from exc
    return out


def report_lake(paths: LakePaths, out: Path, *, title: str) -> Path:
    """Write the report of the lake's fresh rated runs to ``out``; its header names the lake
    and the table versions read."""
    rated = read_rated(paths)
    return write_report(rated.frame.collect(), out, title=title,
                        snapshot={"lake": str(paths.root), **rated.provenance})


def figure_svg(figure: Figure, element_id: str) -> str:
    """``figure`` as an ``<svg>`` element to inline in HTML: no XML prolog, no namespace
    URLs, no comments, and every internal id prefixed with ``element_id`` so several
    figures on one page never share an id."""
    import matplotlib  # noqa: PLC0415 - see the module docstring of plots

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "runlake", "svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None,
                                                       "Format": None, "Type": None})
    svg = _COMMENT.sub("", _XMLNS.sub("", _SVG_START.sub("", buffer.getvalue(), count=1)))
    svg = _ID.sub(lambda match: f"{match[1]}{element_id}-{match[2]}", svg)
    label = _e(element_id.replace("-", " "))
    return svg.replace("<svg", f'<svg role="img" aria-label="{label}"', 1)


def html_table(frame: pl.DataFrame, *, element_id: str, columns: Sequence[str] = ()) -> str:
    """``frame`` (or its ``columns`` that exist) as an escaped HTML table."""
    names = [name for name in columns if name in frame.columns] or frame.columns
    head = "".join(f"<th>{_e(name)}</th>" for name in names)
    rows = "\n".join(_tr(row) for row in frame.select(names).iter_rows())
    return (f'<table class="stats" id="{_e(element_id)}">\n<thead><tr>{head}</tr></thead>\n'
            f"<tbody>\n{rows}\n</tbody>\n</table>")


def _sections() -> list[Section]:
    from runlake.analysis import plots  # noqa: PLC0415 - matplotlib only when a report is made

    stats = ("n", "mean", "ci_low", "ci_high", "rank", "n_missing_metric")
    return [
        Section("heatmap", "Samplers by steps",
                "Mean rating per sampler and steps; each cell shows its mean and n.",
                plots.sampler_steps_heatmap, plots.sampler_steps_stats,
                ("sampler", "steps", *stats)),
        Section("cfg-curves", "CFG scale per model",
                "Mean rating against CFG scale, with 95 % intervals as bands.",
                plots.cfg_curves, plots.cfg_stats, ("model", "cfg_scale", *stats)),
        Section("variants", "Experiment variants against the baseline",
                "Each variant's mean rating minus its experiment's baseline (lowest variant "
                "index), with 95 % Welch intervals.",
                plots.variants_vs_baseline, plots.variant_stats,
                ("experiment_name", "variant_index", "variant_value", "n", "mean", "diff",
                 "diff_ci_low", "diff_ci_high")),
        Section("duration", "Duration by steps",
                "Seconds per run against steps, per model (rank 1 = fastest).",
                plots.duration_vs_steps, plots.duration_stats,
                ("model", "steps", "n", "mean", "ci_low", "ci_high", "rank")),
    ]


def _section(section: Section, frame: pl.DataFrame) -> str:
    svg = figure_svg(section.figure(frame), section.id)
    try:
        stats = section.table(frame)
    except LakeError as exc:  # a column the frame lacks: say so instead of a table
        table = f'<p class="empty">No table: {_e(str(exc))}</p>'
    else:
        table = (html_table(stats, element_id=f"{section.id}-table", columns=section.columns)
                 if stats.height else '<p class="empty">No data.</p>')
    return (f'<section id="{section.id}-section">\n<h2>{_e(section.heading)}</h2>\n'
            f'<figure class="plot" id="{section.id}">\n{svg}\n'
            f"<figcaption>{_e(section.caption)}</figcaption>\n</figure>\n{table}\n</section>")


def _header(title: str, frame: pl.DataFrame, snapshot: Mapping[str, object]) -> str:
    facts = [("runs", str(frame.height))]
    if "rating" in frame.columns:
        facts.append(("rated runs", str(frame["rating"].fill_nan(None).count())))
    facts += [(f"distinct {name}s", str(frame[name].drop_nulls().n_unique()))
              for name in ("model", "experiment_id") if name in frame.columns]
    rows = [*((str(key), _cell(snapshot[key])) for key in sorted(snapshot, key=str)), *facts]
    table = "\n".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return (f"<header>\n<h1>{_e(title)}</h1>\n"
            f'<table class="snapshot" id="snapshot">\n{table}\n</table>\n</header>')


def _best_runs(frame: pl.DataFrame) -> str:
    if "rating" not in frame.columns:
        return ""
    columns = ("rating", "prompt", "model", "sampler", "scheduler", "steps", "cfg_scale",
               "seed", "experiment_name", "record_id")
    # Highest rating first; the record id breaks ties so the table never depends on row order.
    order = ["rating", *(["record_id"] if "record_id" in frame.columns else [])]
    best = (frame.filter(pl.col("rating").fill_nan(None).is_not_null())
            .sort(order, descending=[True, False][: len(order)]).head(BEST_RUNS))
    table = html_table(best, element_id="best-runs-table", columns=columns)
    return (f'<section id="best-runs-section">\n<h2>Best-rated runs</h2>\n{table}\n'
            "</section>")


def _tr(row: Iterable[object]) -> str:
    cells = (f'<td class="num">{_e(_cell(v))}</td>' if isinstance(v, (int, float))
             else f"<td>{_e(_cell(v))}</td>" for v in row)
    return "<tr>" + "".join(cells) + "</tr>"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _e(text: str) -> str:
    return html.escape(text, quote=True)
