"""The records the learning hooks write: a run's ``LearningRecord`` and a ``RatingRecord``.

A ``LearningRecord`` says what actually ran: the base config (stage -> config), the variant
laid over it, the primary knobs pulled from the effective config, the stages planned, what
happened in each, and the images produced. Its shape is StableNew's ``learning_records.jsonl``
line, so imported logs and new runs land in the same ``runs`` table. An absent knob is
``None``, never a made-up ``0`` or ``""``.

>>> record = LearningRecord.from_pipeline_context(
...     {"txt2img": {"model": "sdxl", "steps": 30}}, [{"txt2img": {"cfg_scale": 7}}])
>>> record.primary_steps, record.primary_cfg_scale, record.primary_sampler
(30, 7.0, None)
>>> LearningRecord.from_json(record.to_json()) == record
True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from runlake.errors import InvalidRecord
from runlake.learning.configs import effective_config, merge, primary_config
from runlake.records import RUNS_TABLE, new_id, utc_now_text
from runlake.records.knobs import CONFIG_KNOBS
from runlake.records.vocabulary import placeholder, sampler_pair, scheduler_label, split_model

# Names the same knob goes by in pipeline configs, first match wins: the aliases compaction
# reads (runlake.records.knobs), so a record's primary_* fields and the table's columns agree.
_KNOB_NAMES = {knob.name: knob.aliases for knob in CONFIG_KNOBS if knob.primary}


class RecordSink(Protocol):
    """Where hooks send records: a ``LearningRecordWriter``, a ``BufferedWriter``, a test list."""

    def write(self, record: object) -> str | None: ...


@dataclass(frozen=True)
class RandomizerPlan:
    """How the run's variant was chosen: the mode (``sweep``, ``learning_experiment``, ...)
    and how many variants the plan holds."""

    mode: str
    size: int


@dataclass(frozen=True)
class LearningRecord:
    """What one pipeline run actually did (one line of the ``runs`` table)."""

    run_id: str
    timestamp: str
    base_config: dict[str, Any] = field(default_factory=dict)
    variant_configs: list[dict[str, Any]] = field(default_factory=list)
    randomizer_mode: str | None = None
    randomizer_plan_size: int | None = None
    primary_model: str | None = None
    primary_sampler: str | None = None
    primary_scheduler: str | None = None
    primary_steps: int | None = None
    primary_cfg_scale: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    stage_plan: list[str] = field(default_factory=list)
    stage_events: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_pipeline_context(
        cls,
        base_config: Mapping[str, Any],
        variant_configs: Sequence[Mapping[str, Any]] = (),
        randomizer_plan: RandomizerPlan | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        run_id: str | None = None,
        timestamp: str | None = None,
    ) -> LearningRecord:
        """A record for a run about to start: a new run id, now (UTC) as its timestamp, and
        the primary knobs of the effective config (base with the first variant over it)."""
        base = merge(base_config, {})
        variants = [merge(variant, {}) for variant in variant_configs]
        knobs = primary_knobs(primary_config(effective_config(base, variants)))
        return cls(
            run_id=run_id or new_id(),
            timestamp=timestamp or utc_now_text(),
            base_config=base,
            variant_configs=variants,
            randomizer_mode=randomizer_plan.mode if randomizer_plan else None,
            randomizer_plan_size=randomizer_plan.size if randomizer_plan else None,
            primary_model=knobs["model"],
            primary_sampler=knobs["sampler"],
            primary_scheduler=knobs["scheduler"],
            primary_steps=knobs["steps"],
            primary_cfg_scale=knobs["cfg_scale"],
            metadata=dict(metadata or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready data."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """One line of JSON; ``from_json`` reads it back equal."""
        return orjson.dumps(self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> LearningRecord:
        """Read a record written by ``to_json``.

        Keys it does not know (such as StableNew's ``sidecar_priors``) are ignored, so newer
        writers stay readable; a known key of the wrong type raises :class:`InvalidRecord`.
        """
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InvalidRecord(RUNS_TABLE, None, f"not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise InvalidRecord(RUNS_TABLE, None, "a learning record must be a JSON object")
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearningRecord:
        """Build a record from a mapping of its fields (see ``from_json``)."""
        values = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
        for name, value in values.items():
            _check_field(name, value)
        for required in ("run_id", "timestamp"):
            if required not in values:
                raise InvalidRecord(RUNS_TABLE, required, "missing")
        return cls(**values)


@dataclass(frozen=True)
class RatingRecord:
    """A person's (or a simulation's) rating of one image (one line of ``ratings``).

    Linked to its run by ``run_id`` and to the image by ``image_path``; the experiment
    fields are set when the run belonged to a learning experiment.
    """

    run_id: str
    image_path: str | None
    rating: float
    timestamp: str
    source: str
    experiment_id: str | None = None
    experiment_name: str | None = None
    variant_index: int | None = None
    variable_under_test: str | None = None
    variant_value: Any = None
    subscores: dict[str, Any] = field(default_factory=dict)
    notes: str | None = None


def primary_knobs(config: Mapping[str, Any]) -> dict[str, Any]:
    """Model, sampler, scheduler, steps and CFG scale of one stage config, as canonical
    values (``runlake.records.vocabulary``: ``dpmpp_2m`` + ``karras`` is ``DPM++ 2M`` +
    ``Karras``, a model loses its extension and hash); ``None`` if absent, a placeholder
    (steps 0) or unusable (an empty name, steps that are not a whole number)."""
    found = {knob: _first(config, names) for knob, names in _KNOB_NAMES.items()}
    sampler, scheduler = _text(found["sampler"]), _text(found["scheduler"])
    if sampler is not None:
        sampler, scheduler = sampler_pair(sampler, scheduler)
    elif scheduler is not None:
        scheduler = scheduler_label(scheduler)
    model = _text(found["model"])
    steps, cfg_scale = _whole(found["steps"]), _number(found["cfg_scale"])
    return {
        "model": split_model(model)[0] if model is not None else None,
        "sampler": sampler,
        "scheduler": scheduler,
        "steps": None if placeholder("steps", steps) else steps,
        "cfg_scale": None if placeholder("cfg_scale", cfg_scale) else cfg_scale,
    }


def _first(config: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if config.get(name) is not None:
            return config[name]
    return None


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _whole(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "run_id": (str,), "timestamp": (str,), "base_config": (dict,), "variant_configs": (list,),
    "randomizer_mode": (str,), "randomizer_plan_size": (int,), "primary_model": (str,),
    "primary_sampler": (str,), "primary_scheduler": (str,), "primary_steps": (int,),
    "primary_cfg_scale": (int, float), "metadata": (dict,), "stage_plan": (list,),
    "stage_events": (list,), "outputs": (list,),
}


def _check_field(name: str, value: Any) -> None:
    optional = name not in ("run_id", "timestamp")
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, _FIELD_TYPES[name]):
        expected = " or ".join(t.__name__ for t in _FIELD_TYPES[name])
        raise InvalidRecord(RUNS_TABLE, name, f"expected {expected}, got {type(value).__name__}")
