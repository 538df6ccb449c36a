"""hplint: a static linter for PyTorch training code."""

__version__ = "0.1.0"
