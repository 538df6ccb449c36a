"""Which files may be sweep files (W&B, Hydra, NNI search spaces): a name test
that directory walks make, kept apart from the sweep analysis in `sweeps` so
that finding files never imports the analysis."""

from __future__ import annotations

SUFFIXES = (".yaml", ".yml", ".json")
# Sweep files are small; bigger YAML/JSON files (datasets, lock files) are not read in directory walks.
MAX_DISCOVERED_BYTES = 1 << 20


def is_sweep_candidate(path) -> bool:
    return str(path).lower().endswith(SUFFIXES)
