"""The demo: a real sweep through the learning hooks, from jobs to appended records.

``run_demo`` runs a grid (3 models x 4 samplers x 3 CFG scales x seeds) and a one-knob
learning experiment (steps 10..50) through JobService -> PipelineController ->
PipelineRunner -> OfflineBackend with failsafe learning writers, routes the experiment's
completions through a LearningController, rates every image with a deterministic simulated
rater, and appends runs, job events and ratings to the lake. It returns counts and a small
per-knob summary of the ratings it gave.
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlake.append import LearningRecordWriter, Recorder
from runlake.errors import InvalidOption
from runlake.learning.backends.offline import OfflineBackend
from runlake.learning.configs import merge, primary_config
from runlake.learning.controller import PipelineController
from runlake.learning.experiments import Experiment, LearningController, VariantState
from runlake.learning.jobs import JobResult, JobService, NormalizedJobRecord
from runlake.learning.records import LearningRecord, RandomizerPlan
from runlake.learning.sweep import plan_sweep, value_range
from runlake.records import JOBS_TABLE, RATINGS_TABLE, RUNS_TABLE

MODELS = ("sd_xl_base_1.0.safetensors", "juggernautXL_v9.safetensors",
          "realisticVision_v51.safetensors")
SAMPLERS = ("Euler a", "DPM++ 2M", "DPM++ SDE", "UniPC")
CFG_SCALES = (4.5, 6.0, 7.5)
FIRST_SEED = 1000
PROMPTS = ("a red fox in the snow, golden hour", "portrait of an old sailor, studio light",
           "a lighthouse at dusk, dramatic clouds", "a bowl of ramen, top view",
           "a castle on a cliff, misty morning")
BASE_CONFIG: dict[str, Any] = {
    "pipeline": {"txt2img_enabled": True},
    "txt2img": {"model": MODELS[0], "prompt": PROMPTS[0],
                "negative_prompt": "lowres, watermark", "sampler_name": "DPM++ 2M",
                "scheduler": "Karras", "steps": 25, "cfg_scale": 6.0, "seed": FIRST_SEED,
                "width": 1024, "height": 1024},
}
SUMMARY_KNOBS = ("model", "sampler_name", "cfg_scale", "steps")
EVENTS_PER_JOB = 3  # queued, running, then completed or failed

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class KnobSummary:
    """The simulated ratings of the runs that had ``knob == value``."""

    knob: str
    value: Any
    runs: int
    mean_rating: float


@dataclass(frozen=True)
class DemoResult:
    """What the demo appended, and how its experiment and ratings came out."""

    runs: int
    job_events: int
    ratings: int
    failed_jobs: int
    write_failures: int
    experiment: tuple[VariantState, ...]
    summary: tuple[KnobSummary, ...]


class _Finished:
    """Completion handler that keeps every (job, result) pair."""

    def __init__(self) -> None:
        self.pairs: list[tuple[NormalizedJobRecord, JobResult]] = []

    def __call__(self, job: NormalizedJobRecord, result: JobResult) -> None:
        self.pairs.append((job, result))


def run_demo(
    lake: Recorder,
    *,
    seeds: int = 3,
    images_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> DemoResult:
    """Run the demo sweep into ``lake``; save the PNGs under ``images_dir`` if given.

    ``progress(done, total)`` is called after each job.
    """
    if seeds < 1:
        raise InvalidOption(f"seeds must be at least 1, got {seeds}")
    writers = {table: LearningRecordWriter(lake, table, durability="flush")
               for table in (RUNS_TABLE, JOBS_TABLE, RATINGS_TABLE)}
    controller = PipelineController(learning_writer=writers[RUNS_TABLE],
                                    backend=OfflineBackend(), output_dir=images_dir)
    service = JobService(controller.run_job, events=writers[JOBS_TABLE])
    learning = LearningController(service, ratings=writers[RATINGS_TABLE])
    recorded: list[LearningRecord] = []
    controller.on_learning_record = recorded.append  # the hook sees every record written
    finished = _Finished()
    service.register_completion_handler(finished)
    _queue_grid(service, seeds)
    experiment = _queue_experiment(learning)
    _run_all(service, progress)
    rated = _rate_all(learning, finished.pairs)
    return DemoResult(
        runs=len(recorded),
        job_events=EVENTS_PER_JOB * len(finished.pairs),
        ratings=len(rated),
        failed_jobs=_failed(finished.pairs),
        write_failures=sum(writer.failures for writer in writers.values()),
        experiment=learning.variants(experiment.experiment_id),
        summary=_summarize(rated),
    )


def _queue_grid(service: JobService, seeds: int) -> None:
    grid = plan_sweep({"model": MODELS, "sampler_name": SAMPLERS, "cfg_scale": CFG_SCALES,
                       "seed": [FIRST_SEED + index for index in range(seeds)]})
    plan = RandomizerPlan("sweep", len(grid))
    for index, variant in enumerate(grid):
        # Several prompts, spread evenly over the grid's cells: a dataset built from the
        # demo then has goals to split into train, validation and test. The seeds of a cell
        # (the fastest-varying key) share its prompt, so a settings group pools them.
        with_prompt = {**variant, "prompt": PROMPTS[(index // seeds) % len(PROMPTS)]}
        service.submit(NormalizedJobRecord(BASE_CONFIG, with_prompt, randomizer_plan=plan,
                                           metadata={"experiment_name": "demo grid"}))


def _queue_experiment(learning: LearningController) -> Experiment:
    # A fixed id keeps the demo reproducible: the same lake, comparisons and dataset splits.
    experiment = Experiment("steps sweep", "steps", value_range(10, 50, 10), BASE_CONFIG,
                            experiment_id="demo-steps-sweep")
    learning.plan(experiment)
    learning.submit(experiment.experiment_id)
    return experiment


def _run_all(service: JobService, progress: Progress | None) -> None:
    total = len(service.pending)
    done = 0
    while service.run_next() is not None:
        done += 1
        if progress is not None:
            progress(done, total)


def _rate_all(
    learning: LearningController, pairs: list[tuple[NormalizedJobRecord, JobResult]]
) -> list[tuple[Mapping[str, Any], float]]:
    rated: list[tuple[Mapping[str, Any], float]] = []
    for job, result in pairs:
        if result.status != "completed" or result.run_id is None:
            continue
        knobs = primary_config(merge(job.config, job.variant))
        rating = simulated_rating(knobs)
        for output in result.outputs:
            learning.rate(result.run_id, output.get("path"), rating, source="demo_simulated")
            rated.append((knobs, rating))
    return rated


def simulated_rating(knobs: Mapping[str, Any]) -> int:
    """A rater with taste, deterministic per config: mid CFG, more steps, some models and
    samplers do better; plus noise from the seed. 1..5."""
    cfg = float(knobs.get("cfg_scale") or 6.0)
    steps = int(knobs.get("steps") or 25)
    score = 3.0 - abs(cfg - 6.0) * 0.4 + min(steps, 40) * 0.03 - 0.6
    score += _position(MODELS, knobs.get("model")) * 0.3
    score += _position(SAMPLERS, knobs.get("sampler_name")) * 0.15
    noise = random.Random(f"{knobs.get('seed')}|{knobs.get('model')}").gauss(0, 0.5)
    return max(1, min(5, round(score + noise)))


def _position(choices: tuple[str, ...], value: object) -> int:
    return choices.index(value) if value in choices else 0


def _summarize(rated: list[tuple[Mapping[str, Any], float]]) -> tuple[KnobSummary, ...]:
    summary: list[KnobSummary] = []
    for knob in SUMMARY_KNOBS:
        groups: dict[Any, list[float]] = defaultdict(list)
        for knobs, rating in rated:
            groups[knobs.get(knob)].append(rating)
        ordered = sorted(groups.items(), key=lambda group: (type(group[0]).__name__, group[0]))
        summary.extend(KnobSummary(knob, value, len(ratings), round(statistics.fmean(ratings), 3))
                       for value, ratings in ordered)
    return tuple(summary)


def _failed(pairs: list[tuple[NormalizedJobRecord, JobResult]]) -> int:
    return sum(result.status != "completed" for _, result in pairs)
