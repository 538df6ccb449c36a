"""Command line: `hplint check`, `hplint rule`, `hplint rules`, `hplint init`,
`hplint merge-sarif`, `hplint server`, `hplint probe`.

Exit codes: 0 nothing at or above `--fail-on`; 1 findings; 2 usage, config or
internal error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from . import __version__
from .catalogue import load_catalogue, rule_doc
from .config import Config, ConfigError
from .findings import FileResult, Severity
from .report import ALIASES, FORMATS, HUMAN_FORMATS

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
_log_handler: Optional["logging.Handler"] = None  # the handler main() installed on the "hplint" logger


def _add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--select", action="append", metavar="CODES",
                   help="only these rules (codes, prefixes or names; comma-separated); replaces the config's select")
    p.add_argument("--ignore", action="append", metavar="CODES", help="skip these rules (added to the config's ignore)")
    p.add_argument("--extend-select", action="append", metavar="CODES", help="enable these rules in addition")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="read settings from FILE (pyproject.toml [tool.hplint] or an hplint.toml)")


def _format_name(text: str) -> str:
    """`--output-format` value: the older `text` is read as `full`."""
    return ALIASES.get(text, text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hplint", description="A static linter for PyTorch training code.")
    parser.add_argument("--version", action="version", version=f"hplint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="lint files and directories",
                           description="Lint Python files (directories are searched recursively).")
    check.add_argument("paths", nargs="*", type=Path, default=None, metavar="PATH",
                       help="files or directories (default: .); '-' reads the source from stdin")
    check.add_argument("--output-format", choices=FORMATS, default="full", type=_format_name,
                       help="full (default: each finding with its source line), concise (one line each), "
                            "json (docs/json-output.md), sarif 2.1.0, github annotations, rdjson (reviewdog); "
                            "text is read as full")
    check.add_argument("--stdin-filename", metavar="PATH", help="the path of the file read from stdin")
    check.add_argument("--fail-on", choices=("error", "warning", "info"), default="warning",
                       help="lowest severity that makes the exit code 1 (default: warning)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings are reported")
    check.add_argument("-j", "--jobs", type=int, default=None, help="worker processes (default: all cores)")
    check.add_argument("--shard", metavar="I/N",
                       help="lint only shard I of N (1 <= I <= N): files split by a hash of their path relative "
                            "to the project root, the same on every machine (docs/ci.md)")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour the full/concise output (auto: on a terminal, or with FORCE_COLOR set; "
                            "never with NO_COLOR set; never in --output-file or a machine format)")
    check.add_argument("-o", "--output-file", type=Path, help="write the report to this file instead of stdout")
    check.add_argument("-v", "--verbose", action="store_true",
                       help="log what hplint does, with the traceback of any internal error, on stderr")
    check.add_argument("--no-cache", action="store_true",
                       help="lint every file, neither reading nor writing the result cache (.hplint/cache)")
    _add_selection(check)
    output = check.add_argument_group("output")
    quiet = output.add_mutually_exclusive_group()
    quiet.add_argument("-q", "--quiet", action="store_true",
                       help="print the findings only: no summary, notes or progress")
    quiet.add_argument("-s", "--silent", action="store_true",
                       help="print no report at all (the exit code says it); --diff and stdin --fix "
                            "still write their output, --output-file its file")
    from .check_files import add_arguments as add_file_arguments

    add_file_arguments(check)
    fixes = check.add_argument_group("fixes")
    fixes.add_argument("--fix", action="store_true",
                       help="apply safe fixes, write the files, report what is left")
    fixes.add_argument("--unsafe-fixes", action="store_true",
                       help="with --fix/--diff: apply unsafe fixes too; otherwise count them as fixable")
    fixes.add_argument("--diff", action="store_true",
                       help="print a unified diff of what --fix would change and write nothing "
                            "(exit 1 when there is something to fix)")
    fixes.add_argument("--add-noqa", action="store_true",
                       help="silence every current finding with a `# hplint: disable=CODE` comment on its "
                            "line (adopting hplint in a codebase), then exit 0")
    review = check.add_argument_group("review")
    review.add_argument("--diff-base", metavar="REF",
                        help="only report findings on lines added or changed since git revision REF")
    review.add_argument("--baseline", type=Path, metavar="FILE", help="hide the findings recorded in FILE")
    review.add_argument("--write-baseline", type=Path, metavar="FILE",
                        help="record the current findings in FILE and exit 0")
    review.add_argument("--statistics", action="store_true",
                        help="print counts per rule (code, name, count, fixable) instead of the findings")

    rule = sub.add_parser("rule", help="explain a rule (its catalogue document)")
    rule.add_argument("code", help="a rule code (HPL001) or name (dropout-before-batchnorm)")
    rule.add_argument("--output-format", choices=("text", "json"), default="text",
                      help="text (default: the document) or json (its metadata and documentation)")
    rules = sub.add_parser("rules", help="list all rules")
    rules.add_argument("--output-format", choices=("text", "json"), default="text",
                       help="text (default: one line each) or json (code, name, severity, summary, fix, "
                            "options with defaults)")

    init = sub.add_parser("init", help="write a commented [tool.hplint] configuration",
                          description="Append a commented [tool.hplint] section to DIR/pyproject.toml "
                                      "(every existing byte kept), or create DIR/hplint.toml when there "
                                      "is no pyproject.toml. Refused when DIR already has a configuration.")
    init.add_argument("directory", nargs="?", type=Path, default=Path("."), metavar="DIR",
                      help="where to write it (default: .)")
    clean = sub.add_parser("clean", help="remove the result cache of the project (.hplint/cache or cache-dir)")
    clean.add_argument("--config", type=Path, metavar="FILE", help="the project's configuration file")

    merge = sub.add_parser("merge-sarif", help="merge the SARIF logs of --shard runs into one",
                           description="Merge SARIF logs (e.g. of `hplint check --shard I/N`) into one run.")
    merge.add_argument("inputs", nargs="+", type=Path, metavar="SARIF")
    merge.add_argument("-o", "--output-file", type=Path, help="write the merged log here (default: stdout)")
    server = sub.add_parser("server", help="run the language server (stdio by default)")
    server.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio (debugging)")
    server.add_argument("--log-level", default="WARNING")
    server.add_argument("--check", action="store_true",
                        help="only check that the server's dependencies (the [server] extra) import: "
                             "exit 0, or 3 with the pip command that installs them")

    probe = sub.add_parser("probe", help="run a training script briefly with instrumentation to confirm findings")
    probe.add_argument("script", type=Path)
    probe.add_argument("script_args", nargs=argparse.REMAINDER)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(argv if argv is not None else sys.argv[1:])
    verbose = "-v" in argv or "--verbose" in argv
    _configure_logging(verbose)
    for stream in (sys.stdout, sys.stderr):
        try:  # names that are not valid UTF-8 are written as their own bytes (--diff, messages)
            stream.reconfigure(errors="surrogateescape")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("hplint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `hplint check | head`: the reader left, nothing to report
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:  # a bug in hplint: one clear line, the traceback with --verbose
        logging.getLogger("hplint").debug("internal error", exc_info=True)
        reason = str(exc).splitlines()[0] if str(exc) else ""
        print(f"hplint: internal error: {type(exc).__name__}: {reason}", file=sys.stderr)
        if not verbose:
            print("hplint: run again with --verbose for the traceback, and please report it with that output",
                  file=sys.stderr)
        return EXIT_ERROR


def _configure_logging(verbose: bool) -> None:
    """Library code logs under "hplint"; the command line shows those records
    only with --verbose (the server configures its own logging)."""
    global _log_handler
    logger = logging.getLogger("hplint")
    handler: logging.Handler
    if _log_handler is not None:  # main() called again in one process (tests, embedding)
        logger.removeHandler(_log_handler)
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("hplint: %(levelname)s %(name)s: %(message)s"))
        logger.setLevel(logging.DEBUG)
    else:
        handler = logging.NullHandler()  # keeps logging's last-resort printer quiet
    logger.addHandler(handler)
    _log_handler = handler


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _main(argv: List[str]) -> int:
    if argv[:1] == ["probe"]:
        # The probe has its own option parser (and passes `-- args` to the script).
        from .probe.cli import run_probe_command

        return run_probe_command(argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "check":
        return cmd_check(args)
    if args.command == "rule":
        return cmd_rule(args)
    if args.command == "rules":
        return cmd_rules(args)
    if args.command == "init":
        return cmd_init(args)
    if args.command == "clean":
        return cmd_clean(args)
    if args.command == "merge-sarif":
        return cmd_merge_sarif(args)
    if args.command == "server":
        from .server import main as server_main

        return server_main(args)
    parser.print_help()
    return EXIT_ERROR


def _error(message: str) -> int:
    for line in message.splitlines() or [""]:  # several configuration problems: one line each
        print(f"hplint: error: {line}", file=sys.stderr)
    return EXIT_ERROR


def cmd_check(args) -> int:
    from . import check_files
    from .discovery import discover
    from .result_cache import LazyLinter, lint_paths_cached, open_cache

    paths: List[Path] = args.paths or [Path(".")]
    reading_stdin = len(paths) == 1 and str(paths[0]) == "-"
    start = Path(args.stdin_filename) if reading_stdin and args.stdin_filename else (
        Path(".") if reading_stdin else paths[0])
    try:  # each file gets its own configuration; `config` is the first path's (the report's root)
        resolver = check_files.resolver_from_args(args)
        if args.show_settings:
            return check_files.show_settings([start] if reading_stdin else paths, resolver)
        config = check_files.run_config(resolver, start, [] if reading_stdin else paths)
    except ConfigError as exc:
        return _error(str(exc))
    from .check_steps import merge_probe_verdicts, run_stages, validate

    problem = validate(args)
    if problem:
        return _error(problem)
    if reading_stdin and args.shard is not None:
        return _error("--shard splits the files of a run; it cannot be used with '-' (stdin)")
    use_cache = not args.no_cache and not reading_stdin
    # Built on first use: a run the cache answers whole never imports the rules.
    linter = LazyLinter(config, resolver=resolver, track_dependencies=use_cache)
    paths_by_shown = {}
    stdin_source = None
    if reading_stdin and args.force_exclude and args.stdin_filename and config.is_excluded(start):
        return check_files.excluded_stdin(args, config)
    if reading_stdin:
        from .fix.files import source_from_bytes
        from .source_text import SourceError

        shown = args.stdin_filename or "<stdin>"
        source = source_from_bytes(Path(args.stdin_filename or "stdin.py"), sys.stdin.buffer.read())
        if isinstance(source, SourceError):
            results = [linter.source_error_result(shown, source, None)]
        else:
            results = [linter.lint_text(source.text, source.path, shown)]
            stdin_source = source
    else:
        found = discover(paths, resolver, force_exclude=args.force_exclude)
        if found.errors:
            return _error("\n".join(str(e) for e in found.errors))
        if found.missing:
            return _error("no such file or directory: " + ", ".join(found.missing))
        files = found.files
        if args.show_files:
            return check_files.show_files(files)
        if not files and found.excluded:  # never "All checks passed." when nothing was checked
            code = check_files.report_no_files(args, found.excluded)
            return code if code is not None else _finish(args, config, [],
                                                         notes=[check_files.no_files_note(found.excluded)])
        if args.shard is not None:
            from .shards import ShardError, select_shard

            try:
                files = select_shard(files, args.shard, config.root)
            except ShardError as exc:
                return _error(str(exc))
        from .report.terminal import Progress

        cache = open_cache(config, config_for=resolver.config_for) if use_cache else None
        progress = Progress.for_run(args.output_format, sys.stderr, quiet=args.quiet or args.silent)
        try:
            results = lint_paths_cached(linter, files, jobs=args.jobs, cache=cache, on_file_done=progress)
        finally:
            progress.clear()
        from .display import display_path

        paths_by_shown = {display_path(f): f for f in files}
    merge_probe_verdicts(results, paths_by_shown, stdin_source=stdin_source)
    staged = run_stages(args, linter, results, paths_by_shown, stdin_source)
    if staged.exit_code is not None:
        return staged.exit_code
    return _finish(args, config, staged.results, notes=staged.notes, to_stderr=staged.report_to_stderr)


def _finish(args, config: Config, results: List[FileResult], notes: Sequence[str] = (),
            to_stderr: bool = False) -> int:
    from .report import render
    from .report.terminal import use_color, wrap_width

    stream = sys.stderr if to_stderr else sys.stdout
    to_file = args.output_file is not None
    color = use_color(args.color, args.output_format, stream, to_file=to_file)
    if getattr(args, "statistics", False):
        from .report.statistics import render_statistics

        output = render_statistics(results, args.output_format, unsafe=args.unsafe_fixes)
    else:
        output = render(args.output_format, results, catalogue=config.catalogue, root=config.root,
                        color=color, tool_version=__version__, summary=not args.quiet,
                        width=wrap_width(args.output_format, stream, to_file=to_file))
    machine = args.output_format not in HUMAN_FORMATS or to_file
    if args.quiet or args.silent:
        notes = ()
    if notes and not machine:
        output += "".join(f"{note}\n" for note in notes)
    elif notes:
        for note in notes:
            print(f"hplint: {note}", file=sys.stderr)
    if args.output_file:
        args.output_file.write_bytes(output.encode("utf-8", "surrogateescape"))
    elif output and not args.silent:
        # surrogateescape: a file name that is not valid UTF-8 is printed as the
        # bytes it has on disk (JSON formats have escaped it already).
        stream.buffer.write(output.encode("utf-8", "surrogateescape"))
        stream.flush()
    errors = [e for r in results for e in r.errors]
    for message in errors:
        print(f"hplint: {message}", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_OK
    threshold = Severity.parse(args.fail_on)
    failing = any(f.severity >= threshold for r in results for f in r.findings)
    return EXIT_FINDINGS if failing else EXIT_OK


def _rule_json(doc) -> dict:
    """A rule's metadata for `hplint rules/rule --output-format json`."""
    options = []
    for o in doc.options:
        option = {"name": o.name, "default": o.default, "description": o.description}
        if o.items is not None:
            option["items"] = o.items
        if o.minimum is not None:
            option["min-exclusive" if o.min_exclusive else "min"] = o.minimum
        if o.maximum is not None:
            option["max"] = o.maximum
        if o.choices:
            option["choices"] = list(o.choices)
        options.append(option)
    return {"code": doc.code, "name": doc.name, "severity": str(doc.severity), "summary": doc.summary,
            "fix": doc.fix, "message": doc.message, "url": doc.url, "options": options}


def cmd_clean(args) -> int:
    from .config_resolver import Resolver
    from .result_cache import clear_cache
    from .result_cache.store import cache_folder

    try:
        config = Resolver(explicit=args.config).config_for(Path(".") / "x.py")
    except ConfigError as exc:
        return _error(str(exc))
    folder = cache_folder(config)
    if not folder.exists():
        print(f"hplint: no result cache at {folder}", file=sys.stderr)
        return EXIT_OK
    problem = clear_cache(config)
    if problem:
        return _error(problem)
    print(f"hplint: removed the result cache {folder}", file=sys.stderr)
    return EXIT_OK


def cmd_rule(args) -> int:
    doc = rule_doc(args.code)
    if doc is None:
        from .catalogue import suggest_rule

        guess = suggest_rule(args.code)
        if guess:
            return _error(f"unknown rule {args.code!r}; did you mean {guess!r}?")
        known = ", ".join(sorted(load_catalogue()))
        return _error(f"unknown rule {args.code!r} (known: {known})")
    body = doc.body
    if body.lstrip().startswith(f"# {doc.code}"):
        body = body.lstrip().split("\n", 1)[1] if "\n" in body.lstrip() else ""
    if getattr(args, "output_format", "text") == "json":
        from .report import dump_json

        sys.stdout.write(dump_json({**_rule_json(doc), "documentation": body.strip() + "\n"}))
        return EXIT_OK
    header = f"# {doc.code} {doc.name}\n\nDefault severity: {doc.severity}. Fix: {doc.fix}.\n"
    sys.stdout.write(header + body.rstrip() + "\n")
    return EXIT_OK


def cmd_rules(args=None) -> int:
    docs = load_catalogue()
    if getattr(args, "output_format", "text") == "json":
        from .report import dump_json

        sys.stdout.write(dump_json([_rule_json(docs[code]) for code in sorted(docs)]))
        return EXIT_OK
    width = max(len(d.name) for d in docs.values())
    for code in sorted(docs):
        doc = docs[code]
        print(f"{doc.code}  {doc.name:<{width}}  {str(doc.severity):<7}  {doc.summary}")
    return EXIT_OK


def cmd_merge_sarif(args) -> int:
    from .report import dump_json
    from .shards import ShardError, merge_sarif_files

    try:
        output = dump_json(merge_sarif_files(args.inputs))
    except ShardError as exc:
        return _error(str(exc))
    if args.output_file:
        args.output_file.write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)
    return EXIT_OK


def cmd_init(args) -> int:
    from .init_config import init

    if not args.directory.is_dir():
        return _error(f"no such directory: {args.directory}")
    outcome = init(args.directory)
    if outcome.path is None:
        return _error(outcome.message)
    print(outcome.message)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
