"""`hplint probe`: run a training script briefly under instrumentation to
confirm or refute the static findings with measured figures.

Only the child process (`bootstrap`, `instrument`) imports torch; everything
the parent, `hplint check` and the language server load from this package
(`cli`, `targets`, `runner`, `verdicts`, `render`, `store`) stays torch-free.
"""
