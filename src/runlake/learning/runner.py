"""``PipelineRunner``: run txt2img, then img2img and upscale where enabled, for one variant,
and record what actually ran as exactly one ``LearningRecord``.

The record is sent to ``learning_writer`` and/or ``on_learning_record`` when either is given,
and nowhere otherwise. Recording never fails a run: a writer or callback that raises is
logged and the run's result is returned as usual. A run whose stage fails is recorded too
(``metadata.status == "failed"`` with the error), then the stage's error is raised.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlake.errors import LakeError
from runlake.learning.backends.base import Backend
from runlake.learning.configs import Stage, effective_config, stage_config, stage_plan
from runlake.learning.records import LearningRecord, RandomizerPlan, RecordSink
from runlake.storage import storage_error

log = logging.getLogger("runlake.learning")

LearningCallback = Callable[[LearningRecord], None]


@dataclass(frozen=True)
class StageRun:
    """One stage of a run: the images it produced, its seed and its duration."""

    stage: Stage
    images: tuple[bytes, ...]
    seed: int | None
    duration_s: float


@dataclass(frozen=True)
class RunResult:
    """A finished run: its record, its stages, and the final stage's images."""

    record: LearningRecord
    stages: tuple[StageRun, ...]

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def outputs(self) -> list[dict[str, Any]]:
        """The final images' entries (``stage``, ``index``, ``path``, ``sha256``)."""
        return self.record.outputs

    @property
    def images(self) -> tuple[bytes, ...]:
        return self.stages[-1].images if self.stages else ()

    @property
    def duration_s(self) -> float:
        return round(sum(stage.duration_s for stage in self.stages), 3)


class PipelineRunner:
    """Runs the stage pipeline on ``backend``; saves final images under ``output_dir`` if set.

    >>> runner = PipelineRunner(OfflineBackend(), learning_writer=LearningRecordWriter(lake))
    ... # doctest: +SKIP
    >>> result = runner.run({"txt2img": {"prompt": "a fox", "steps": 20}})  # doctest: +SKIP
    """

    def __init__(
        self,
        backend: Backend,
        *,
        learning_writer: RecordSink | None = None,
        on_learning_record: LearningCallback | None = None,
        output_dir: str | Path | None = None,
    ) -> None:
        self.backend = backend
        self.learning_writer = learning_writer
        self.on_learning_record = on_learning_record
        self.output_dir = Path(output_dir) if output_dir is not None else None

    def run(
        self,
        base_config: Mapping[str, Any],
        variant: Mapping[str, Any] | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        randomizer_plan: RandomizerPlan | None = None,
    ) -> RunResult:
        """Run one variant of ``base_config`` (stage -> config); raise the stage's error if
        a stage fails (after recording the failed run)."""
        record = LearningRecord.from_pipeline_context(
            base_config, [variant] if variant else [], randomizer_plan, metadata)
        config = effective_config(record.base_config, record.variant_configs)
        plan = stage_plan(config)
        events: list[dict[str, Any]] = []
        try:
            stages = self._run_stages(plan, config, events)
            outputs = self._save(record.run_id, stages[-1])
        except Exception as exc:
            self._emit(self._finish(record, plan, events, [], error=exc))
            raise
        finished = self._finish(record, plan, events, outputs, stages=stages)
        self._emit(finished)
        return RunResult(finished, tuple(stages))

    def _run_stages(
        self, plan: list[Stage], config: Mapping[str, Any], events: list[dict[str, Any]]
    ) -> list[StageRun]:
        stages: list[StageRun] = []
        inputs: list[bytes | None] = [None]  # txt2img starts from no image
        for stage in plan:
            events.append({"phase": "start", "stage": stage})
            try:
                run = self._run_stage(stage, stage_config(config, stage), inputs)
            except Exception as exc:
                events.append({"phase": "failed", "stage": stage, "error": _describe(exc)})
                raise
            events.append({"phase": "completed", "stage": stage, "images": len(run.images),
                           "seed": run.seed, "duration_s": run.duration_s})
            stages.append(run)
            inputs = list(run.images)
        return stages

    def _run_stage(
        self, stage: Stage, settings: Mapping[str, Any], inputs: list[bytes | None]
    ) -> StageRun:
        # img2img and upscale work image by image on what the previous stage produced.
        results = [self.backend.generate(stage, settings, init_image=image) for image in inputs]
        images = tuple(image for result in results for image in result.images)
        seed = results[0].seed if results else None
        return StageRun(stage, images, seed, round(sum(r.duration_s for r in results), 3))

    def _save(self, run_id: str, final: StageRun) -> list[dict[str, Any]]:
        outputs = []
        for index, image in enumerate(final.images):
            path = self._write_image(f"{run_id}-{index:02d}.png", image)
            outputs.append({"stage": final.stage, "index": index,
                            "path": str(path) if path else None,
                            "sha256": hashlib.sha256(image).hexdigest()})
        return outputs

    def _write_image(self, name: str, image: bytes) -> Path | None:
        # The name is built from the run id this runner generated, never from a config.
        if self.output_dir is None:
            return None
        path = self.output_dir / name
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            path.write_bytes(image)
        except OSError as exc:
            raise storage_error(exc, path, doing=f"save image {path}") from exc
        return path

    def _finish(
        self,
        record: LearningRecord,
        plan: list[Stage],
        events: list[dict[str, Any]],
        outputs: list[dict[str, Any]],
        *,
        stages: list[StageRun] | None = None,
        error: Exception | None = None,
    ) -> LearningRecord:
        status: dict[str, Any] = {"status": "failed" if error else "completed",
                                  "backend": self.backend.name}
        if stages is not None:
            status["duration_s"] = round(sum(stage.duration_s for stage in stages), 3)
        if error is not None:
            status["error"] = _describe(error)
        # After a failure the backend may be down or hung: asking it again would only make
        # the failed run wait a second timeout, so the model stays unknown.
        model = record.primary_model or (self._loaded_model() if error is None else None)
        return dataclasses.replace(
            record, primary_model=model,
            metadata={**record.metadata, **status}, stage_plan=list(plan),
            stage_events=events, outputs=outputs)

    def _loaded_model(self) -> str | None:
        # With no model in the config, what ran is whatever the backend had loaded.
        try:
            return self.backend.current_model()
        except LakeError as exc:
            log.warning("runlake: could not ask the backend for its model: %s", exc)
            return None

    def _emit(self, record: LearningRecord) -> None:
        if self.learning_writer is not None:
            _deliver("learning writer", self.learning_writer.write, record)
        if self.on_learning_record is not None:
            _deliver("on_learning_record callback", self.on_learning_record, record)


def _deliver(name: str, sink: Callable[[LearningRecord], object], record: LearningRecord) -> None:
    try:
        sink(record)
    except Exception:  # recording must never break the run it describes
        log.warning("runlake: the %s raised for run %s; the run goes on", name, record.run_id,
                    exc_info=True)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
