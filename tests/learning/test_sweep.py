"""Sweep planning: exact inclusive ranges and the grid of variants."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import runlake
from runlake import NumericRange, plan_sweep, value_range


def test_a_float_range_ends_exactly_at_its_stop() -> None:
    values = value_range(0.5, 1.5, 0.1)
    assert len(values) == 11
    assert values[0] == 0.5 and values[-1] == 1.5
    assert values == (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5)


@pytest.mark.parametrize(("args", "expected"), [
    ((1, 10, 3), (1, 4, 7, 10)),
    ((20, 50, 10), (20, 30, 40, 50)),
    ((5, 5, 1), (5,)),
    ((0, 1, 0.3), (0.0, 0.3, 0.6, 0.9)),  # 1 is off the grid: the last value is below it
    (("4", "9", "2.5"), (4.0, 6.5, 9.0)),
    ((0.1, 0.3, 0.1), (0.1, 0.2, 0.3)),
])
def test_ranges(args: tuple[Any, Any, Any], expected: tuple[Any, ...]) -> None:
    values = value_range(*args)
    assert values == expected
    assert [type(v) for v in values] == [type(v) for v in expected]


@given(start=st.decimals(-100, 100, places=2), step=st.decimals("0.01", 10, places=2),
       count=st.integers(0, 300))
def test_the_end_is_included_exactly(start: Decimal, step: Decimal, count: int) -> None:
    stop = start + count * step
    values = value_range(str(start), str(stop), str(step))
    assert len(values) == count + 1
    assert values[-1] == float(stop)
    assert values == tuple(float(start + i * step) for i in range(count + 1))


@pytest.mark.parametrize("args", [(0, 1, 0), (0, 1, -0.1), (2, 1, 0.5), (0, 1, "x"),
                                  (0, "inf", 1), (True, 2, 1), (0, 10**9, 1)])
def test_bad_ranges_are_refused(args: tuple[Any, Any, Any]) -> None:
    with pytest.raises(runlake.InvalidOption):
        value_range(*args)


def test_the_grid_is_every_combination_first_axis_slowest() -> None:
    variants = plan_sweep({"sampler_name": ["Euler a", "DPM++ 2M"], "steps": [20, 30],
                           "cfg_scale": NumericRange(5, 7, 1)})
    assert len(variants) == 2 * 2 * 3
    assert variants[0] == {"txt2img": {"sampler_name": "Euler a", "steps": 20, "cfg_scale": 5}}
    assert variants[1] == {"txt2img": {"sampler_name": "Euler a", "steps": 20, "cfg_scale": 6}}
    assert variants[-1] == {"txt2img": {"sampler_name": "DPM++ 2M", "steps": 30,
                                        "cfg_scale": 7}}
    assert len({repr(v) for v in variants}) == len(variants)


def test_knobs_can_name_their_stage() -> None:
    (variant,) = plan_sweep({"model": ["sdxl"], "upscale.upscaler": ["R-ESRGAN 4x+"]},
                            stage="img2img")
    assert variant == {"img2img": {"model": "sdxl"}, "upscale": {"upscaler": "R-ESRGAN 4x+"}}


@pytest.mark.parametrize("axes", [{"steps": []}, {"sampler_name": "Euler a"},
                                  {"txt2img.": [1]}])
def test_bad_axes_are_refused(axes: dict[str, Any]) -> None:
    with pytest.raises(runlake.InvalidOption):
        plan_sweep(axes)
