"""Narrowing a run to what a reviewer should see: findings on lines changed
since a git revision (`--diff-base`), findings not already recorded in a
baseline file (`--baseline`, `--write-baseline`)."""
