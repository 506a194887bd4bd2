"""The dataset card (``README.md``): YAML front matter that ``datasets`` reads (the split
files), then counts per split, fields, filters with what each removed, and provenance.

It holds nothing that changes between two runs on the same data (no clock time), so the
card is byte-identical too. The snapshot comes from the caller: pass table versions, not
times.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import metadata

import polars as pl

from runlake.export.files import Built
from runlake.export.filters import FilterStep
from runlake.export.options import SPLITS, ExportKind, ExportOptions
from runlake.records import DEFAULT_RATING_SCALE, format_scale

_SUMMARY = {
    "sft": "Chat examples for supervised fine-tuning: for each goal (prompt, negative prompt, "
           "model, stage), the best-rated settings.",
    "preference": "Preference pairs for DPO-style tuning: for one goal, settings that were "
                  "rated clearly better (chosen) and worse (rejected), from the same "
                  "experiment, or from runs of the same goal outside experiments.",
    "table": "The joined, normalized rated runs (one row per run, ratings attached), as "
             "Parquet.",
}
_CHAT_FIELDS = {
    "sft": [
        ("messages", "list of {role, content}",
         "system prompt; user: the goal as JSON; assistant: the settings as JSON"),
        ("rating", "float", "mean rating of the settings group the answer comes from"),
        ("n_ratings", "int", "ratings behind that mean (seeds pooled)"),
        ("rating_interval", "[float, float]",
         "95 % interval of that mean on the rating scale (Wilson; its lower bound chose "
         "the answer)"),
        ("record_ids", "list of str", "lake record ids of the rated runs behind it"),
    ],
    "preference": [
        ("prompt", "list of {role, content}", "system prompt; user: the goal as JSON"),
        ("chosen", "list of {role, content}", "one assistant turn: the better settings as JSON"),
        ("rejected", "list of {role, content}", "one assistant turn: the worse settings as JSON"),
        ("score_chosen", "float", "mean rating of the chosen settings"),
        ("score_rejected", "float", "mean rating of the rejected settings"),
        ("n_chosen", "int", "ratings behind score_chosen (seeds pooled)"),
        ("n_rejected", "int", "ratings behind score_rejected"),
        ("interval_chosen", "[float, float]", "95 % interval of score_chosen (Wilson)"),
        ("interval_rejected", "[float, float]", "95 % interval of score_rejected"),
    ],
}


def render_card(
    kind: ExportKind,
    built: Built,
    *,
    steps: list[FilterStep],
    options: ExportOptions,
    snapshot: Mapping[str, object],
    schema: pl.Schema,
    warnings: Sequence[str] = (),
) -> str:
    """The whole ``README.md`` text."""
    sections = [
        _front_matter(kind, built),
        f"# runlake {kind} export\n\n{_SUMMARY[kind]}",
        *([_warnings(warnings)] if warnings else []),
        _splits(built, options),
        _fields(kind, options, schema),
        _filters(steps),
        _source(snapshot),
        _loading(kind, built),
    ]
    return "\n\n".join(sections) + "\n"


def empty_splits(built: Built, options: ExportOptions) -> list[str]:
    """A warning per split that was meant to get examples (a fraction above 0) and got none:
    it has no file, so a trainer asking for it fails."""
    return [f"the {split} split is empty: every prompt and experiment went to another split "
            "(too few of them for its fraction); a trainer that asks for it fails. Add "
            "prompts, or change the seed or the fractions"
            for split, fraction in zip(SPLITS, options.fractions, strict=True)
            if fraction > 0 and built.stats[split].examples == 0]


def _warnings(warnings: Sequence[str]) -> str:
    return "## Warnings\n\n" + "\n".join(f"- **{text}**" for text in warnings)


def _front_matter(kind: ExportKind, built: Built) -> str:
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in SPLITS:
        name = _file(kind, split)
        if name in built.files:
            lines += [f"  - split: {split}", f"    path: {name}"]
    lines += [f"pretty_name: {_quote(f'runlake {kind} export')}", "tags:", "- runlake",
              "- stable-diffusion", "---"]
    return "\n".join(lines)


def _splits(built: Built, options: ExportOptions) -> str:
    rows = [("split", "examples", "prompts", "experiments")]
    for split in SPLITS:
        stats = built.stats[split]
        rows.append((split, str(stats.examples), str(stats.prompts), str(stats.experiments)))
    fractions = " / ".join(f"{fraction:g}" for fraction in options.fractions)
    return (
        "## Splits\n\n" + _table(rows) + "\n\n"
        f"Group-aware and deterministic (seed {options.seed}, train / validation / test "
        f"fractions {fractions}): runs that share an experiment or a prompt form one group, "
        "and each group goes whole to one split, chosen by a SHA-256 hash of the seed and the "
        "group. No experiment and no prompt is in two splits. A split with no examples has "
        "no file."
    )


def _fields(kind: ExportKind, options: ExportOptions, schema: pl.Schema) -> str:
    if kind == "table":
        columns = [("column", "type")] + [(name, str(dtype)) for name, dtype in schema.items()]
        return "## Fields\n\n" + _table(columns)
    rows = [("field", "type", "meaning"), *_CHAT_FIELDS[kind]]
    knobs = ", ".join(options.knobs)
    return (
        "## Fields\n\n" + _table(rows) + "\n\n"
        "JSON objects in the turns have sorted keys and leave out what is not set (an absent "
        f"knob is never written as 0). Settings knobs: {knobs}. Seeds are pooled: a settings "
        "group's rating is the mean over its runs, with n and a 95 % Wilson interval on the "
        f"rating scale {format_scale(options.rating_scale or DEFAULT_RATING_SCALE)}.\n\n"
        f"System prompt: {_quote(options.system_prompt)}"
    )


def _filters(steps: list[FilterStep]) -> str:
    rows = [("filter", "condition", "counts", "before", "after")]
    rows += [(s.name, s.condition, s.unit, str(s.before), str(s.after)) for s in steps]
    return "## Filters\n\nApplied in this order:\n\n" + _table(rows)


def _source(snapshot: Mapping[str, object]) -> str:
    rows = [("key", "value"), ("runlake version", _version())]
    rows += [(str(key), _text(snapshot[key])) for key in sorted(snapshot, key=str)]
    return "## Source\n\nThe lake snapshot this export was made from:\n\n" + _table(rows)


def _loading(kind: ExportKind, built: Built) -> str:
    files = {split: _file(kind, split) for split in SPLITS if _file(kind, split) in built.files}
    builder = "parquet" if kind == "table" else "json"
    reader = "pl.read_parquet" if kind == "table" else "pl.read_ndjson"
    first = next(iter(files.values()), "train.jsonl")
    return (
        "## Loading\n\n```python\nfrom datasets import load_dataset\n"
        f'dataset = load_dataset("{builder}", data_files={files!r})\n\n'
        f'import polars as pl\nframe = {reader}("{first}")\n```'
    )


def _file(kind: ExportKind, split: str) -> str:
    return f"{split}.parquet" if kind == "table" else f"{split}.jsonl"


def _table(rows: Sequence[Sequence[str]]) -> str:
    header, *body = rows
    lines = [_row(header), _row(tuple("---" for _ in header))]
    return "\n".join(lines + [_row(row) for row in body])


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _cell(text: str) -> str:
    # A pipe or a line break inside a value would end the cell or the table.
    return " ".join(text.split()).replace("|", "\\|")


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def _quote(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar, and plain text in Markdown.
    return json.dumps(text, ensure_ascii=False)


def _version() -> str:
    try:
        return metadata.version("runlake")
    except metadata.PackageNotFoundError:
        return "unknown"
