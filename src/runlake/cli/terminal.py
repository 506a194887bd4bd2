"""Frames on a terminal: a page of rows (the rest counted), folded to fit the screen.

A 20,000-row result drawn as one rich table took minutes and scrolled off the screen; a
``SELECT *`` of ~70 columns, most of them empty, squeezed every column to a letter. So, for
the table format only (CSV and JSON are written unchanged, whole):

- a page: the first :data:`DEFAULT_ROWS` rows (``--limit N``; ``--limit 0`` for all), then a
  line saying how many more there are and how to get them;
- columns with no value in the page are left out (and named in a note);
- cells longer than :data:`CELL_WIDTH` characters end in ``…``, line breaks become ``⏎``;
- when the columns still do not fit the terminal's width, each row is shown as a record:
  one ``column  value`` line per column (:data:`DEFAULT_RECORDS` records unless ``--limit``).

Polars is imported by the functions that get a frame, never at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    import polars as pl

DEFAULT_ROWS = 50
DEFAULT_RECORDS = 10
CELL_WIDTH = 40
_PADDING = 3  # rich's cell padding and rule per column
_NUMBER_TEXT = r"^(-?[0-9][0-9.,e+-]*|\[.*\]|\(missing\))$"


def show_frame(
    out: Console, frame: pl.DataFrame, title: str | None, *, limit: int | None,
    readable: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> None:
    """Print a page of ``frame`` on ``out`` (``readable`` turns the page into the text a
    person reads, e.g. a comparison's intervals), folded to fit, with notes on what was
    left out."""
    page = frame.head(DEFAULT_ROWS if limit is None else limit or frame.height)
    shown = readable(page) if readable is not None else page
    shown, empty = _without_empty_columns(shown)
    cells = [[_cell(value) for value in row] for row in shown.iter_rows()]
    if _natural_width(shown.columns, cells) > out.width and shown.width > 1:
        if limit is None:
            page, cells = page.head(DEFAULT_RECORDS), cells[:DEFAULT_RECORDS]
        out.print(_records(shown.columns, cells, title))
    else:
        out.print(_table(shown, cells, title))
    for note in _notes(frame.height - page.height, empty):
        out.print(note, style="dim", highlight=False, soft_wrap=True)


def _without_empty_columns(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    import polars as pl

    if frame.height == 0:
        return frame, []
    nulls = frame.null_count().row(0)
    keep = [i for i, count in enumerate(nulls) if count < frame.height]
    if not keep or len(keep) == frame.width:  # all shown, or nothing but nulls: show them
        return frame, []
    empty = [name for name, count in zip(frame.columns, nulls, strict=True)
             if count == frame.height]
    return frame.select(pl.nth(keep)), empty  # by position: a name is never a pattern


def _natural_width(names: list[str], cells: list[list[str]]) -> int:
    widths = [len(name) for name in names]
    for row in cells:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    return sum(min(width, CELL_WIDTH) + _PADDING for width in widths) + 1


def _table(frame: pl.DataFrame, cells: list[list[str]], title: str | None) -> Table:
    import polars as pl

    table = Table(title=title, title_justify="left")
    for name, dtype in frame.schema.items():
        right = dtype.is_numeric() or (dtype == pl.String and _numeric_text(frame[name]))
        table.add_column(name, justify="right" if right else "left", no_wrap=True,
                         overflow="ellipsis")
    for row in cells:
        table.add_row(*row)
    return table


def _records(names: list[str], cells: list[list[str]], title: str | None) -> Group:
    """Each row as a record: a rule with its number, then one ``column  value`` line per
    column with a value (the vertical layout of psql's ``\\x`` and MySQL's ``\\G``)."""
    width = min(max(map(len, names)), CELL_WIDTH)
    parts: list[Text | Table] = [Text(title, style="bold")] if title else []
    for number, row in enumerate(cells, start=1):
        parts.append(Text(f"── row {number} " + "─" * 20, style="dim"))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, overflow="ellipsis", max_width=width, style="bold")
        grid.add_column(overflow="fold")
        for name, cell in zip(names, row, strict=True):
            if cell != "—":
                grid.add_row(name, cell)
        parts.append(grid)
    return Group(*parts)


def _notes(hidden_rows: int, empty: list[str]) -> list[str]:
    notes = []
    if hidden_rows > 0:
        notes.append(f"… {hidden_rows:,} more rows (--limit N shows more, --limit 0 all; "
                     "--format csv or json writes every row)")
    if empty:
        listed = ", ".join(empty[:8]) + (f" and {len(empty) - 8} more" if len(empty) > 8 else "")
        notes.append(f"{len(empty)} columns without a value in these rows not shown: {listed}")
    return notes


def _numeric_text(series: pl.Series) -> bool:
    """Whether a text column holds numbers as text (formatted numbers, intervals): those
    line up on the right, like numbers."""
    values = series.drop_nulls()
    return not values.is_empty() and bool(values.str.contains(_NUMBER_TEXT).all())


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:.3g}" if abs(value) < 1e-3 or abs(value) >= 1e5 else f"{value:.3f}"
    else:
        text = str(value).replace("\r\n", "⏎").replace("\n", "⏎")
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"
