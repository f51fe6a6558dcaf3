"""The engine rounds whole columns of figures at once; each must equal Python's own round().

Readings are compared by fingerprint from run to run and shown over the API, so a figure that
rounded one way in one release and another way in the next would rewrite readings and alerts
for nothing.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from core.alerts.indicators import round_column

# Decimal halves that multiplying by 10**4 in floating point pushes to the wrong side of the tie.
SCALED_TO_THE_WRONG_SIDE = [44.68285, 53.25585, 28.57985, 71.48615, 57.60335, 66.65845]


def _naive(values: np.ndarray, places: int) -> np.ndarray:
    return np.rint(values * 10.0**places) / 10.0**places


def test_values_that_scaling_misrounds_round_as_python_rounds_them() -> None:
    values = np.array(SCALED_TO_THE_WRONG_SIDE + [-value for value in SCALED_TO_THE_WRONG_SIDE])
    expected = [round(value, 4) for value in values.tolist()]
    assert round_column(values, 4).tolist() == expected
    # The positive control: plain scaling gets these wrong, so the test above can fail.
    assert _naive(values, 4).tolist() != expected


@pytest.mark.parametrize("places", [2, 3, 4])
def test_random_figures_round_exactly_as_python(places: int) -> None:
    generator = random.Random(places)
    values = [generator.uniform(-1e4, 1e4) for _ in range(20_000)]
    values += [generator.randint(0, 10**9) / 10 ** (places + 1) for _ in range(20_000)]  # many exact halves
    values += [n / 7 for n in range(2_000)] + [n / 28 for n in range(2_000)]  # daily rates of the engine
    assert round_column(np.array(values), places).tolist() == [round(value, places) for value in values]


def test_empty_large_and_two_dimensional_values() -> None:
    values = np.array([[math.nan, 0.125, 2.0**53 + 2], [1e300, -0.0, 0.135]])
    rounded = round_column(values, 2)
    assert math.isnan(rounded[0, 0])
    assert rounded[0, 1:].tolist() == [round(0.125, 2), round(2.0**53 + 2, 2)]
    assert rounded[1].tolist() == [round(1e300, 2), round(-0.0, 2), round(0.135, 2)]
