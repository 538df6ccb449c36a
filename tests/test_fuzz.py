"""Property-based tests: the properties of fuzz_properties.py on generated
code (hypothesmith, from Python's grammar) and on mutated examples. Bounded
to about a minute here; `make fuzz` runs the same checks for 10 minutes."""

from __future__ import annotations

import os
import random

import pytest

hypothesis = pytest.importorskip("hypothesis")
hypothesmith = pytest.importorskip("hypothesmith")

from fuzz_properties import SEEDS, check_source, mutate  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("HPLINT_FUZZ_EXAMPLES", "60"))
COMMON = dict(deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])


@settings(max_examples=EXAMPLES, **COMMON)
@given(seed=st.sampled_from(SEEDS), rng=st.randoms(use_true_random=False), rounds=st.integers(1, 4))
def test_mutated_examples(tmp_path, seed, rng, rounds):
    text = mutate(seed, rng, rounds)
    check_source(text, tmp_path / "fuzz.py", previous=seed)


@settings(max_examples=EXAMPLES // 2, **COMMON)
@given(text=hypothesmith.from_grammar(auto_target=False))
def test_generated_from_the_grammar(tmp_path, text):
    check_source(text, tmp_path / "fuzz.py")


@settings(max_examples=EXAMPLES // 2, **COMMON)
@given(text=hypothesmith.from_node(auto_target=False))
def test_generated_valid_code(tmp_path, text):
    check_source(text, tmp_path / "fuzz.py", previous=text + "\nx = 1\n")


@pytest.mark.parametrize("index", range(len(SEEDS)))
def test_every_seed_holds_every_property(tmp_path, index):
    # The unmutated examples carry the findings and fixes the mutations start from.
    assert check_source(SEEDS[index], tmp_path / "fuzz.py", previous=mutate(SEEDS[index], random.Random(index))) >= 0
