"""Tests of learning/: records, runner, jobs, experiments, sweeps, backends, the demo."""
