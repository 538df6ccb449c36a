"""`hplint check`'s file and configuration options: which configuration each
file gets (the resolver), which files are linted (discovery, exclusion,
.gitignore), `--show-settings` and `--show-files`, and the summary when every
named path was excluded. Kept out of cli.py so the command stays a thin parser."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from .config import Config
from .config_resolver import Overrides, Resolver, check_paths_configs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("files and configuration")
    group.add_argument("--exclude", action="append", metavar="PATTERN",
                       help="exclude files matching PATTERN (relative to the current directory); "
                            "replaces the configuration's exclude (repeat or comma-separate)")
    group.add_argument("--extend-exclude", action="append", metavar="PATTERN",
                       help="exclude files matching PATTERN as well as the configuration's exclude")
    group.add_argument("--force-exclude", action="store_true",
                       help="apply exclusions to paths named on the command line too (pre-commit passes this)")
    group.add_argument("--no-respect-gitignore", action="store_true",
                       help="lint files that .gitignore, .ignore or .git/info/exclude ignore")
    group.add_argument("--show-settings", action="store_true",
                       help="print the settings each named file (or directory) gets, and where each comes from")
    group.add_argument("--show-files", action="store_true",
                       help="list the files that would be linted, one per line, and lint nothing")


def resolver_from_args(args: Any) -> Resolver:
    """The run's resolver: `--config` for every file, else each file's nearest
    configuration; the command-line overrides on top. Raises ConfigError."""
    # One run: every directory's answer is kept (the server's resolver is bounded).
    return Resolver(explicit=getattr(args, "config", None), overrides=Overrides.from_args(args), size=1 << 20)


def run_config(resolver: Resolver, start: Path, paths: Sequence[Path]) -> Config:
    """The configuration of `start` (the report's root), after reading those of
    every named path: raises ConfigError with all their problems at once
    (discovery reports the broken configurations below them)."""
    check_paths_configs(resolver, [p for p in paths if p.exists()])
    return resolver.config_for(start)


# -- --show-files / no files ----------------------------------------------------------------
def show_files(files: Sequence[Path]) -> int:
    from .display import display_path

    for path in sorted(files, key=display_path):
        print(display_path(path))
    return 0


def no_files_note(excluded: Sequence[Tuple[str, str]]) -> str:
    """The summary when every named path was excluded (never "All checks passed.")."""
    named = "; ".join(f"{path} is excluded by {why}" for path, why in excluded)
    return (f"No files linted: {named}. Pass {'it' if len(excluded) == 1 else 'them'} without --force-exclude "
            "to lint anyway.")


def report_no_files(args: Any, excluded: Sequence[Tuple[str, str]]) -> Optional[int]:
    """Text output: the note instead of a report (exit 0). Other formats: None,
    and the caller renders the empty report with the note on stderr."""
    from .report import HUMAN_FORMATS

    if args.output_format not in HUMAN_FORMATS:
        return None
    if getattr(args, "silent", False):
        return 0
    text = no_files_note(excluded) + "\n"
    if args.output_file is not None:
        args.output_file.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def excluded_stdin(args: Any, config: Config) -> int:
    """`--force-exclude` and an excluded `--stdin-filename`: nothing is linted;
    with `--fix` the input goes back out unchanged (an editor replaces the buffer with it)."""
    data = sys.stdin.buffer.read()
    if args.fix and not args.diff:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        print(f"hplint: {no_files_note([(args.stdin_filename, config.exclusion_reason(args.stdin_filename) or '')])}",
              file=sys.stderr)
        return 0
    return report_no_files(args, [(args.stdin_filename, config.exclusion_reason(args.stdin_filename) or "")]) or 0


# -- --show-settings ------------------------------------------------------------------------
def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def settings_lines(path: Path, config: Config) -> List[str]:
    """The settings `path` gets, one per line, each with where it comes from."""
    from .display import display_path

    lines = [f"Settings for {display_path(path)}:"]
    if config.source is None:
        lines.append(f"  configuration file: none found (defaults, rooted at {config.root})")
    else:
        lines.append(f"  configuration file: {config.source}")
        for parent in config.extends:
            lines.append(f"  extends: {parent}")
    entries = [
        ("select", config.select), ("extend-select", config.extend_select), ("ignore", config.ignore),
        ("exclude", config.exclude), ("extend-exclude", config.extend_exclude),
        ("extend-include", config.extend_include), ("per-file-ignores", config.per_file_ignores),
        ("respect-gitignore", config.respect_gitignore),
        ("lint-tests", config.lint_tests),
        ("cache-dir", str(config.cache_dir) if config.cache_dir is not None else ".hplint/cache (default)"),
        ("severity", {code: str(level) for code, level in sorted(config.severity.items())}),
    ]
    for key, value in entries:
        origin = config.origins.get(key, "default")
        if key in config.pattern_roots:
            origin += f"; patterns relative to {config.pattern_roots[key]}"
        lines.append(f"  {key} = {_value(value)}  # {origin}")
    rules_origin = config.origins.get("rules", "default")
    for code in sorted(config.options):
        for name, value in sorted(config.options[code].items()):
            lines.append(f"  rules.{code}.{name} = {_value(value)}  # {rules_origin}")
    enabled = sorted(config.enabled_codes_for(path))
    lines.append(f"  enabled rules for this file: {', '.join(enabled) if enabled else 'none'}")
    reason = config.exclusion_reason(path)
    lines.append(f"  excluded: {'yes, ' + reason if reason else 'no'}")
    return lines


def show_settings(paths: Sequence[Path], resolver: Resolver) -> int:
    out: List[str] = []
    for path in paths:
        out.extend(settings_lines(path, resolver.config_for(path)))
    sys.stdout.write("\n".join(out) + "\n")
    return 0
