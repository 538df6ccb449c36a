"""Numbers in messages: `readable` and the rule messages that quote numbers."""

from __future__ import annotations

import math
import re

import pytest

from hplint.numbers import readable

from helpers import lint_code


@pytest.mark.parametrize("value, text", [
    (0.00031622776601683794, "3.16e-4"),  # a computed square root
    (0.000316228, "3.16e-4"),
    (1e-8, "1e-8"),
    (1.5e-8, "1.5e-8"),
    (1e-5, "1e-5"),
    (0.001, "0.001"),
    (0.00099999, "0.001"),  # rounding may carry into the next power of ten
    (0.0123456, "0.0123"),
    (0.1, "0.1"),
    (1 - 0.9, "0.1"),  # float noise
    (0.1 + 0.2, "0.3"),
    (0.5, "0.5"),
    (1.0, "1"),
    (3.0, "3"),
    (-3.0, "-3"),
    (-0.301, "-0.301"),
    (12.5, "12.5"),
    (1234.5678, "1230"),
    (99999.0, "1e5"),  # rounds up to 1e5: scientific, like 1e5 itself
    (100000.0, "1e5"),
    (123456.0, "1.23e5"),
    (2.5e6, "2.5e6"),
    (1e22, "1e22"),
    (0.0, "0"),
    (-0.0, "0"),
    (2048, "2048"),  # ints stay ints, however large
    (10 ** 6, "1000000"),
    (True, "True"),
    (float("inf"), "inf"),
    (float("-inf"), "-inf"),
    (float("nan"), "nan"),
    # within 1% of 1 the distance to 1 is what is rounded
    (0.9999, "0.9999"),
    (0.999, "0.999"),
    (0.99999999, "0.99999999"),
    (0.99683772233983, "0.99684"),
    (-0.9999, "-0.9999"),
    (1.005, "1.005"),
    (0.985, "0.985"),
    (0.9, "0.9"),
])
def test_readable(value, text):
    assert readable(value) == text


def test_readable_round_trips_within_three_significant_digits():
    for exponent in range(-12, 12):
        for mantissa in (1.0, 1.23456, 3.16227766, 9.87654):
            x = mantissa * 10.0 ** exponent
            text = readable(x)
            assert not re.search(r"\.\d*0(e|$)|\.(e|$)|e\+|e-?0\d", text), text
            assert math.isclose(float(text), x, rel_tol=5e-3), (x, text)
            assert ("e" in text) == (x < 1e-3 or float(text) >= 1e5), (x, text)


def test_small_percentages_are_readable_too():
    from hplint.rules.hpl003_lr_linear_sampling import percent

    assert [percent(x) for x in (0.9, 0.25, 0.0052, 0.00052, 1e-7, 0)] == [
        "90%", "25%", "0.52%", "0.052%", "1e-5%", "0%"]


def test_messages_print_readable_numbers(tmp_path):
    (lr,) = lint_code(tmp_path, """
        def objective(trial):
            return trial.suggest_float("lr", 1e-3, 1e-2)
    """, select=["HPL003"])
    # the upper half of the orders of magnitude starts at sqrt(1e-3 * 1e-2)
    assert "[0.001, 0.01]" in lr.message and "[0.00316, 0.01]" in lr.message
    assert "0.00316228" not in lr.message
    (beta,) = lint_code(tmp_path, """
        def objective(trial):
            return trial.suggest_float("momentum", 0.9, 0.9999)
    """, select=["HPL004"])
    assert "[0.9, 0.9999]" in beta.message  # not [0.9, 1]
    assert re.search(r"r ~ U\[-4, -1\]", beta.message), beta.message
    (adam,) = lint_code(tmp_path, """
        import torch
        opt = torch.optim.Adam(params, eps=1e-04)
    """, select=["HPL007"])
    assert "eps=1e-4" in adam.message and "eps=1e-8" in adam.message and "e-0" not in adam.message
