"""PipelineRunner and PipelineController: stages, one record per run, failsafe hooks."""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import runlake
from runlake import (
    LearningRecord,
    OfflineBackend,
    PipelineController,
    PipelineRunner,
    parse_infotext,
)
from runlake.learning.backends import GenerationResult
from runlake.learning.configs import Stage
from tests.helpers import run_python

BASE: dict[str, Any] = {
    "txt2img": {"model": "juggernautXL_v9.safetensors", "prompt": "a fox", "steps": 20,
                "sampler_name": "Euler a", "cfg_scale": 6.0, "seed": 7, "width": 832,
                "height": 1216},
}
FULL: dict[str, Any] = {
    **BASE,
    "pipeline": {"img2img_enabled": True, "upscale_enabled": True},
    "img2img": {"denoising_strength": 0.4, "steps": 10},
    "upscale": {"upscaler": "R-ESRGAN 4x+", "upscaling_resize": 2},
}


class Sink:
    """A RecordSink that keeps what it is given."""

    def __init__(self) -> None:
        self.records: list[object] = []

    def write(self, record: object) -> str | None:
        self.records.append(record)
        return None


class RaisingSink:
    def write(self, record: object) -> str | None:
        raise RuntimeError("disk on fire")


class FailingStage:
    """The offline backend, except that one stage fails."""

    name = "failing"

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.inner = OfflineBackend()

    def current_model(self) -> str | None:
        return None

    def generate(self, stage: Stage, config: Mapping[str, Any], *,
                 init_image: bytes | None = None) -> GenerationResult:
        if stage == self.stage:
            raise runlake.BackendError(f"{stage} exploded")
        return self.inner.generate(stage, config, init_image=init_image)


def test_without_writer_or_callback_the_run_just_runs() -> None:
    result = PipelineRunner(OfflineBackend()).run(BASE)
    assert len(result.images) == 1
    assert result.images[0].startswith(b"\x89PNG")
    assert result.record.metadata["status"] == "completed"


def test_one_record_per_run_to_writer_and_callback() -> None:
    sink, seen = Sink(), []
    runner = PipelineRunner(OfflineBackend(), learning_writer=sink,
                            on_learning_record=seen.append)
    results = [runner.run(BASE, {"txt2img": {"cfg_scale": cfg}}) for cfg in (4.0, 6.0, 8.0)]
    assert sink.records == seen == [result.record for result in results]
    assert len({result.run_id for result in results}) == 3
    assert [r.primary_cfg_scale for r in seen] == [4.0, 6.0, 8.0]


def test_the_record_says_what_ran(tmp_path: Path) -> None:
    seen: list[LearningRecord] = []
    runner = PipelineRunner(OfflineBackend(), on_learning_record=seen.append,
                            output_dir=tmp_path / "out")
    result = runner.run(FULL, {"txt2img": {"cfg_scale": 8.5}}, metadata={"pack": "animals"})
    (record,) = seen
    assert record.stage_plan == ["txt2img", "img2img", "upscale"]
    assert [(e["phase"], e["stage"]) for e in record.stage_events] == [
        ("start", "txt2img"), ("completed", "txt2img"), ("start", "img2img"),
        ("completed", "img2img"), ("start", "upscale"), ("completed", "upscale")]
    assert record.primary_cfg_scale == 8.5 and record.primary_steps == 20
    assert record.metadata["pack"] == "animals" and record.metadata["backend"] == "offline"
    assert record.metadata["duration_s"] == result.duration_s > 0
    (output,) = record.outputs
    saved = Path(output["path"])
    assert saved.parent == tmp_path / "out" and saved.name.startswith(record.run_id)
    assert output["stage"] == "upscale"
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == output["sha256"]
    parameters = Image.open(io.BytesIO(saved.read_bytes())).info["parameters"]
    assert "Postprocess upscaler: R-ESRGAN 4x+" in parameters
    assert parse_infotext(parameters).config()["denoising_strength"] == 0.4


def test_batch_images_flow_through_later_stages() -> None:
    config = {**FULL, "txt2img": {**BASE["txt2img"], "batch_size": 3}}
    result = PipelineRunner(OfflineBackend()).run(config)
    assert [len(stage.images) for stage in result.stages] == [3, 3, 3]
    assert [output["index"] for output in result.outputs] == [0, 1, 2]


@pytest.mark.parametrize("hook", ["writer", "callback", "both"])
def test_raising_writer_or_callback_never_fails_the_run(
        hook: str, caplog: pytest.LogCaptureFixture) -> None:
    def explode(record: LearningRecord) -> None:
        raise ValueError("callback bug")

    runner = PipelineRunner(OfflineBackend(),
                            learning_writer=RaisingSink() if hook != "callback" else None,
                            on_learning_record=explode if hook != "writer" else None)
    with caplog.at_level(logging.WARNING, logger="runlake.learning"):
        result = runner.run(BASE)
    assert result.record.metadata["status"] == "completed"
    assert len(caplog.records) == (2 if hook == "both" else 1)


def test_a_raising_writer_does_not_keep_the_callback_from_its_record() -> None:
    seen: list[LearningRecord] = []
    PipelineRunner(OfflineBackend(), learning_writer=RaisingSink(),
                   on_learning_record=seen.append).run(BASE)
    assert len(seen) == 1


def test_a_failed_stage_is_recorded_once_then_raised() -> None:
    seen: list[LearningRecord] = []
    runner = PipelineRunner(FailingStage("img2img"), on_learning_record=seen.append)
    with pytest.raises(runlake.BackendError, match="img2img exploded"):
        runner.run(FULL)
    (record,) = seen
    assert record.metadata["status"] == "failed"
    assert "img2img exploded" in record.metadata["error"]
    assert record.stage_events[-1] == {"phase": "failed", "stage": "img2img",
                                       "error": "BackendError: img2img exploded"}
    assert record.outputs == []


def test_the_loaded_model_is_recorded_when_the_config_names_none() -> None:
    seen: list[LearningRecord] = []
    backend = OfflineBackend(model="dreamshaper_8.safetensors")
    PipelineRunner(backend, on_learning_record=seen.append).run({"txt2img": {"prompt": "x"}})
    assert seen[0].primary_model == "dreamshaper_8.safetensors"


def test_runs_written_to_the_lake_through_the_failsafe_writer(lake: runlake.Lake) -> None:
    runner = PipelineRunner(OfflineBackend(), learning_writer=runlake.LearningRecordWriter(lake))
    result = runner.run(BASE)
    (stored,) = lake.read_raw("runs")
    assert stored.record["run_id"] == result.run_id
    assert LearningRecord.from_dict(stored.record) == result.record


def test_controller_builds_a_runner_with_its_writer() -> None:
    sink = Sink()
    controller = PipelineController(learning_writer=sink, backend=OfflineBackend())
    assert controller.runner.learning_writer is sink
    controller.run(BASE)
    assert len(sink.records) == 1


def test_controller_passes_its_writer_to_a_given_runner() -> None:
    sink = Sink()
    runner = PipelineRunner(OfflineBackend())
    controller = PipelineController(learning_writer=sink, runner=runner)
    assert controller.runner is runner and runner.learning_writer is sink
    assert controller.learning_writer is sink


def test_controller_hook_is_settable() -> None:
    controller = PipelineController(backend=OfflineBackend())
    seen: list[LearningRecord] = []
    controller.on_learning_record = seen.append
    controller.run(BASE)
    controller.on_learning_record = None
    controller.run(BASE)
    assert len(seen) == 1 and controller.runner.on_learning_record is None


def test_controller_run_job_stamps_the_learning_context() -> None:
    controller = PipelineController(backend=OfflineBackend())
    context = runlake.LearningJobContext("exp-1", "CFG sweep", 2, "cfg_scale", 7.5)
    job = runlake.NormalizedJobRecord(BASE, {"txt2img": {"cfg_scale": 7.5}},
                                      learning_context=context)
    record = controller.run_job(job).record
    assert record.metadata["job_id"] == job.job_id
    assert record.metadata["learning_context"] == context.to_dict()
    assert (record.metadata["variable_under_test"], record.metadata["variant_value"]) == (
        "cfg_scale", 7.5)
    assert record.primary_cfg_scale == 7.5


def test_controller_needs_exactly_one_way_to_run() -> None:
    with pytest.raises(runlake.InvalidOption):
        PipelineController()
    with pytest.raises(runlake.InvalidOption):
        PipelineController(backend=OfflineBackend(), runner=PipelineRunner(OfflineBackend()))


def test_no_gui_toolkit_is_imported() -> None:
    result = run_python("import sys, runlake, runlake.cli, runlake.learning.demo\n"
                        "print(sorted({'tkinter', 'PyQt5', 'PyQt6', 'PySide6', 'wx'}"
                        " & set(sys.modules)))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
