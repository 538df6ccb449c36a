"""The optional stages of `hplint check` between linting and reporting, in
order: fix (`--fix`, `--diff`), `--write-baseline`, `--diff-base`,
`--baseline`, then `--statistics` or the normal report. Kept out of cli.py so
the command stays a thin parser."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from .findings import FileResult

if TYPE_CHECKING:  # pragma: no cover
    from .fix.files import SourceFile

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


@dataclass
class Staged:
    results: List[FileResult]
    exit_code: Optional[int] = None  # set when a stage ends the command (--diff, --write-baseline, errors)
    notes: List[str] = field(default_factory=list)  # summary lines ("Fixed 3 findings ...")
    report_to_stderr: bool = False  # stdin --fix: stdout carries the fixed source


def _err(message: str) -> None:
    print(f"hplint: error: {message}", file=sys.stderr)


def validate(args) -> Optional[str]:
    """A usage problem with the combination of flags, else None."""
    if args.statistics and args.output_format not in ("full", "concise", "json"):
        return "--statistics supports --output-format full, concise or json"
    if args.write_baseline and (args.fix or args.diff):
        return "--write-baseline cannot be combined with --fix or --diff"
    if args.add_noqa and (args.fix or args.diff or args.write_baseline or args.statistics):
        return "--add-noqa cannot be combined with --fix, --diff, --write-baseline or --statistics"
    return None


def run_stages(args, linter, results: List[FileResult], paths: Dict[str, Path],
               stdin_source: Optional["SourceFile"] = None) -> Staged:
    staged = Staged(results)
    if args.fix or args.diff:
        _fix(args, linter, staged, paths, stdin_source)
        if staged.exit_code is not None:
            return staged
    if args.write_baseline:
        from .review.baseline import write_baseline

        count = write_baseline(args.write_baseline, staged.results)
        if not (args.quiet or args.silent):
            print(f"hplint: recorded {count} finding{'s' if count != 1 else ''} in {args.write_baseline}",
                  file=sys.stderr)
        errors = [e for r in staged.results for e in r.errors]
        for message in errors:
            print(f"hplint: {message}", file=sys.stderr)
        staged.exit_code = EXIT_ERROR if errors else EXIT_OK
        return staged
    if args.diff_base:
        from .review.diff_base import DiffBaseError, changed_lines, filter_results

        try:
            changed = changed_lines(args.diff_base, args.paths or [Path(".")] if stdin_source is None else [])
        except DiffBaseError as exc:
            _err(str(exc))
            staged.exit_code = EXIT_ERROR
            return staged
        staged.results = filter_results(staged.results, changed)
    if args.baseline:
        from .review.baseline import BaselineError, filter_baseline, read_baseline

        try:
            counts = read_baseline(args.baseline)
        except BaselineError as exc:
            _err(str(exc))
            staged.exit_code = EXIT_ERROR
            return staged
        staged.results, hidden = filter_baseline(staged.results, args.baseline, counts)
        if hidden:
            staged.notes.append(f"{hidden} finding{'s' if hidden != 1 else ''} hidden by the baseline {args.baseline}.")
    if args.add_noqa:
        _add_noqa(args, staged, paths, stdin_source)
    return staged


def _add_noqa(args, staged: Staged, paths: Dict[str, Path], stdin_source: Optional["SourceFile"]) -> None:
    """`--add-noqa`: comments for the findings left after --diff-base/--baseline; exit 0 (2 on errors)."""
    if stdin_source is not None:
        _err("--add-noqa edits files; it cannot read the source from stdin")
        staged.exit_code = EXIT_ERROR
        return
    from .add_noqa import add_noqa

    run = add_noqa(staged.results, paths)
    quiet = args.quiet or args.silent
    if not quiet:
        for note in run.notes:
            print(f"hplint: {note}", file=sys.stderr)
    errors = [e for r in staged.results for e in r.errors]
    for message in errors:
        print(f"hplint: {message}", file=sys.stderr)
    if not quiet:
        print(f"Added {run.added} noqa directive{'s' if run.added != 1 else ''}.", file=sys.stderr)
    staged.exit_code = EXIT_ERROR if errors else EXIT_OK


PROBE_STORE_DIR = (".hplint", "probe")  # probe.store.STORE_DIR (tests/test_startup.py checks)


def _any_probe_store(files) -> bool:
    """Whether a `.hplint/probe` folder is in the directory of, or above, any of `files`."""
    seen = set()
    for path in files:
        directory = os.path.dirname(os.path.abspath(path))
        while directory not in seen:
            seen.add(directory)
            if os.path.isdir(os.path.join(directory, *PROBE_STORE_DIR)):
                return True
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
    return False


def merge_probe_verdicts(results: List[FileResult], paths: Dict[str, Path],
                         stdin_source: Optional["SourceFile"] = None) -> None:
    """The one step where saved `hplint probe` verdicts join the findings
    ("confirmed by probe: ..."): a finding is marked only when a probe ran on
    this exact file text (for a notebook: its joined code cells, as the probe
    ran them). A file is re-read only where a `.hplint/probe` folder exists
    (the process pool does not ship texts back)."""
    wanted = [stdin_source.path if stdin_source is not None else paths.get(r.path) for r in results if r.findings]
    if not _any_probe_store(p for p in wanted if p is not None):
        return  # the usual case: no verdicts anywhere, and the probe package stays unimported
    from .probe.store import ProbeVerdicts

    verdicts = ProbeVerdicts()
    for result in results:
        if not result.findings:
            continue
        path = stdin_source.path if stdin_source is not None else paths.get(result.path)
        if path is None or path.suffix not in (".py", ".ipynb") or verdicts.folder_for(path) is None:
            continue
        text = stdin_source.text if stdin_source is not None else result.source
        if text is None:
            from .fix.files import read_source

            source = read_source(path)
            text = getattr(source, "text", None)
        if path.suffix == ".ipynb" and text is not None:
            from .notebook import probe_view

            view = probe_view(text)  # the probe ran the joined cells as a script
            if view is not None:
                script, lines = view
                result.findings = verdicts.annotate(
                    path, script, result.findings,
                    position=lambda f, lines=lines: (lines.get((f.cell, f.span.start_line), -1), f.span.start_col))
            continue
        result.findings = verdicts.annotate(path, text, result.findings)


def _fix(args, linter, staged: Staged, paths: Dict[str, Path], stdin_source: Optional["SourceFile"]) -> None:
    write = bool(args.fix) and not args.diff
    if stdin_source is not None:
        from .fix.cli import unified_diff
        from .fix.files import encode_source
        from .fix.runner import fix_text

        shown = staged.results[0].path
        path = stdin_source.path
        fixer: Callable[..., Any] = fix_text
        if str(path).lower().endswith(".ipynb"):  # cells, spliced back into the JSON
            from .notebook import fix_notebook_text

            fixer = fix_notebook_text
        elif str(path).lower().endswith((".yaml", ".yml", ".json")):
            from .sweeps import fix_sweep_text

            fixer = fix_sweep_text
        outcome = fixer(linter, stdin_source.text, path, shown, unsafe=args.unsafe_fixes)
        staged.results = [outcome.result]
        if args.diff:
            if hasattr(outcome, "changed_cells"):
                from .notebook import cell_diff

                sys.stdout.write(cell_diff(outcome, shown))
            else:
                sys.stdout.write(unified_diff(outcome.original, outcome.text, shown))
            staged.exit_code = EXIT_ERROR if outcome.result.errors else (
                EXIT_FINDINGS if outcome.changed else EXIT_OK)
            for message in outcome.result.errors:
                print(f"hplint: {message}", file=sys.stderr)
            return
        try:  # the input's own encoding and BOM, as fixing a file keeps them
            data = encode_source(stdin_source, outcome.text)
        except UnicodeEncodeError:
            data = encode_source(stdin_source, outcome.original)
            staged.results[0].errors.append(f"internal error: fixed {shown} cannot be written as "
                                            f"{stdin_source.encoding}; input left unchanged")
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        staged.report_to_stderr = True
        staged.notes.append(f"Fixed {len(outcome.fixed)} finding{'s' if len(outcome.fixed) != 1 else ''}.")
        return
    from .fix.cli import run_fixes

    run = run_fixes(linter, staged.results, paths, unsafe=args.unsafe_fixes, write=write)
    staged.results = run.results
    plural = "s" if run.fixed != 1 else ""
    files = f"{run.files_changed} file{'s' if run.files_changed != 1 else ''}"
    if args.diff:
        sys.stdout.write("".join(run.diffs))
        sys.stdout.flush()
        errors = [e for r in run.results for e in r.errors]
        for message in errors:
            print(f"hplint: {message}", file=sys.stderr)
        if not (args.quiet or args.silent):
            print(f"hplint: would fix {run.fixed} finding{plural} in {files}", file=sys.stderr)
        staged.exit_code = EXIT_ERROR if errors else (EXIT_FINDINGS if run.files_changed else EXIT_OK)
        return
    staged.notes.append(f"Fixed {run.fixed} finding{plural} in {files}.")
