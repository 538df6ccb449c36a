"""The linting pipeline: files -> analysis facts -> rules -> findings ->
config and suppressions. The CLI, the language server, the probe and the
review tools all call `Linter`; none of them run rules on their own.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import traceback
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Union

import libcst as cst

from .analysis.incremental import IncrementalParser, statement_lines
from .analysis.module import ModuleContext
from .analysis.project import ProjectIndex
from .analysis.source import SourceError, check_with_cpython, decode_source, parse_checked
from .catalogue import RuleDoc, load_catalogue
from .config import ALWAYS_ENABLED, Config
from .config_resolver import Resolver
from .display import display_path
from .findings import FileResult, Finding, Fix, RelatedLocation, Severity, Span, TextEdit
from .rules import LazyRules
from .rules.base import FixSpec, Report
from .source_text import DATA_SUFFIXES, decode_data, is_data_file
from .suppression import apply_suppressions, parse_suppressions

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger("hplint")

# Cold start (`hplint check one.py` from a hook): notebooks, sweep files and
# the process pool are imported when a run needs them, not with the engine.
# These are notebook.SUFFIX and sweeps.SUFFIXES (tests/test_startup.py checks).
NOTEBOOK_SUFFIX = ".ipynb"
SWEEP_SUFFIXES = DATA_SUFFIXES

#: Called as `on_file_done(count, total)` while `lint_paths` works: `count`
#: files of `total` are done (in worker chunks when linting in parallel).
ProgressCallback = Callable[[int, int], None]


class Linter:
    """Lints files and texts with one configuration, or with each file's own
    configuration when given a `Resolver`. Reusable and cheap to keep: the
    project index caches parsed dependency modules between calls."""

    def __init__(self, config: Optional[Config] = None, project: Optional[ProjectIndex] = None,
                 incremental: bool = False, resolver: Optional[Resolver] = None,
                 track_dependencies: bool = False) -> None:
        self.resolver = resolver
        if config is None:
            config = Config(catalogue=resolver.catalogue) if resolver is not None else Config()
        self.config = config
        self.catalogue: Dict[str, RuleDoc] = self.config.catalogue or load_catalogue()
        self.rules = LazyRules()  # a rule's module is imported when a file enables it
        self.project = project or ProjectIndex(config=self.config,
                                               config_for=self.config_for if resolver is not None else None)
        # The result cache needs to know which other files each result read.
        self.track_dependencies = track_dependencies
        self.project.track_dependencies = self.project.track_dependencies or track_dependencies
        # Editors lint the same document again and again: keep per-document
        # parsers that re-parse only the statements an edit changed.
        self.incremental = incremental
        self._parsers: Dict[str, IncrementalParser] = {}

    def config_for(self, path: Optional[Path]) -> Config:
        """The configuration governing `path`: the resolver's, else the one given."""
        if self.resolver is None or path is None:
            return self.config
        return self.resolver.config_for(path)

    # -- one file ----------------------------------------------------------
    def lint_file(self, path: Path, shown_as: Optional[str] = None) -> FileResult:
        result = self._lint_file(path, shown_as)
        if self.track_dependencies:
            result.dependencies = self.project.dependencies(path)
        return result

    def _lint_file(self, path: Path, shown_as: Optional[str] = None) -> FileResult:
        shown = shown_as or display_path(path)
        if os.path.lexists(path) and os.path.exists(path) and not os.path.isfile(path):
            kind = "a directory" if os.path.isdir(path) else "not a regular file"
            return self.source_error_result(shown, SourceError(f"cannot read file: it is {kind}"), None, path)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            return self.source_error_result(shown, SourceError(f"cannot read file: {exc.strerror or exc}"), None,
                                            path)
        if is_data_file(path):
            return self._lint_data_file(data, Path(path), shown)
        text = decode_source(data)
        if isinstance(text, SourceError):
            return self.source_error_result(shown, text, None, path)
        return self.lint_text(text, Path(path), shown)

    def _lint_data_file(self, data: bytes, path: Path, shown: str) -> FileResult:
        """A YAML/JSON file: linted when it is a search space. One that cannot
        be decoded is reported only when it still reads like a sweep file, as
        a broken YAML file is (sweeps.search_space): any other is not ours."""
        text = decode_data(data)
        if isinstance(text, SourceError):
            from .sweeps import looks_like_a_sweep

            if looks_like_a_sweep(data.decode("utf-8", errors="replace")):
                return self.source_error_result(shown, text, None, path)
            return FileResult(shown, [], None, skipped=True)
        return self.lint_text(text, path, shown)

    def lint_text(self, text: str, path: Path, shown_as: Optional[str] = None) -> FileResult:
        """Lint `text` as the contents of `path` (which need not exist on disk)."""
        shown = shown_as or display_path(path)
        lowered = str(path).lower()
        if lowered.endswith(NOTEBOOK_SUFFIX):
            from .notebook import lint_notebook_text

            return lint_notebook_text(self, text, Path(path), shown)
        if lowered.endswith(SWEEP_SUFFIXES):
            from .sweeps import lint_sweep_text

            return lint_sweep_text(self, text, Path(path), shown)
        return self.lint_python_text(text, path, shown)

    def lint_python_text(self, text: str, path: Path, shown: str) -> FileResult:
        """Lint `text` as Python (a notebook's joined code cells come here too)."""
        if not self.config_for(path).enabled_codes_for(path) - ALWAYS_ENABLED:
            return self._syntax_only(text, path, shown)
        if not self.incremental:
            # Already parsed as another file's dependency in this run: lint that tree.
            known = self.project.cached(Path(path), text)
            if known is not None:
                return self.lint_context(known, shown)
        top_lines, positions, index, memo = None, None, None, None
        parsed = None
        if self.incremental:
            parser = self._parsers.setdefault(os.path.abspath(path), IncrementalParser())
            parsed = parser.parse(text)
            positions, index, memo = parser.positions, parser.index, parser.memo
        if parsed is not None:
            tree, top_lines = parsed
        else:
            checked = parse_checked(text)
            if isinstance(checked, SourceError):
                exported = self.lint_notebook_export(text, path, shown)
                return exported if exported is not None else self.source_error_result(shown, checked, text, path)
            return self._lint_parsed(text, path, shown, checked, positions, index, memo)
        return self.lint_context(self.context(text, tree, Path(path), top_lines, positions, index, memo), shown)

    def _lint_parsed(self, text: str, path: Path, shown: str, checked, positions=None, index=None,
                     memo=None) -> FileResult:
        """Lint what `parse_checked(text)` gave (libcst's tree, CPython's, elided literals)."""
        tree, ast_module, elided = checked
        top_lines = statement_lines(tree.body, ast_module.body) if ast_module is not None else None
        ctx = self.context(text, tree, Path(path), top_lines, positions, index, memo, elided)
        if ast_module is not None:
            # CPython's tree places findings inside compound statements (span()),
            # while this file is linted; not kept with the cached context.
            ctx.ast_tops_from(ast_module.body)
        try:
            return self.lint_context(ctx, shown)
        finally:
            ctx.ast_tops_from(None)

    def lint_notebook_export(self, text: str, path: Path, shown: str) -> Optional[FileResult]:
        """A `.py` file that is not Python only because of IPython lines
        (`%matplotlib inline`, `!pip install ...`: a notebook exported or meant to
        be pasted into cells): linted with those lines masked as in a notebook,
        plus one HPL000 warning where they start. Its findings keep their
        positions (masking keeps every other line as it is); a fix that would
        edit a masked line is dropped. None when masking does not make it parse."""
        from dataclasses import replace

        from .notebook import mask_cell, split_lines

        masked_text, count = mask_cell(text)
        if not count:
            return None
        checked = parse_checked(masked_text)
        if isinstance(checked, SourceError):
            return None
        result = self._lint_parsed(masked_text, path, shown, checked)
        lines = split_lines(text)
        masked = [i for i, (was, now) in enumerate(zip(lines, split_lines(masked_text)), start=1) if was != now]
        hidden = set(masked)
        result.findings = [f if f.fix is None or not any(
            line in hidden for edit in f.fix.edits for line in range(edit.span.start_line, edit.span.end_line + 1))
            else replace(f, fix=None) for f in result.findings]
        first = masked[0]
        where = f"line {first} holds" if len(masked) == 1 else f"lines {first} and {len(masked) - 1} more hold"
        message = (f"{where} IPython syntax (`{lines[first - 1].strip()[:40]}`), which is not Python: "
                   "this file runs only in a notebook or IPython. Those lines were skipped and the rest was checked; "
                   "keep it as a notebook, or remove them.")
        severity = self.config_for(path).severity_for("HPL000", Severity.WARNING)
        result.findings.insert(0, self._hpl000(message, shown, Span(first, 1, first, 1), severity, "ipython-syntax"))
        result.source = text
        return result

    def _syntax_only(self, text: str, path: Path, shown: str) -> FileResult:
        """A file where nothing but HPL000 may be reported (a test file, or
        every rule ignored for it): only Python's verdict on its syntax. No
        libcst tree is built and no rule runs, so a test file costs a tenth of
        a linted one (on torch's sources, a tenth of the bytes are such files,
        among them the largest tree, 1.4 MB of source); what libcst could not
        parse is not reported, since nothing would have been analysed."""
        checked: object = check_with_cpython(text)
        if isinstance(checked, SourceError) and checked.maybe_newer_syntax:
            checked = parse_checked(text)  # newer syntax than this Python's: libcst's grammar decides
        if isinstance(checked, SourceError) and not checked.limitation:
            return self.source_error_result(shown, checked, text, path)
        return FileResult(shown, [], text)

    def forget(self, path: Path) -> None:
        """Drop the incremental state of a document the editor closed (its
        parsed chunks, positions, index and memo: all of its trees)."""
        self._parsers.pop(os.path.abspath(path), None)

    @property
    def open_documents(self) -> int:
        """How many documents hold incremental state (the editor's open files)."""
        return len(self._parsers)

    def context(self, text: str, tree: cst.Module, path: Path, top_lines=None, positions=None,
                index=None, memo=None, elided=()) -> ModuleContext:
        module_name, is_package = self.project.add_file(path) if path else ("", False)
        ctx = ModuleContext(Path(path), text, tree, module_name, is_package, self.project, self.config_for(path),
                            top_lines=top_lines, position_cache=positions, index_cache=index, memo=memo,
                            elided=elided)
        self.project.register(ctx)
        return ctx

    def lint_context(self, ctx: ModuleContext, shown: str) -> FileResult:
        result = FileResult(shown, [], ctx.text)
        config = self.config_for(ctx.path)
        enabled = config.enabled_codes_for(ctx.path)
        for code in self.rules:
            if code not in enabled:
                continue
            doc = self.catalogue.get(code)
            if doc is None:
                continue
            rule = self.rules[code]
            try:
                reports = list(rule.check(ctx))
                findings = [self._finding(report, doc, ctx, shown) for report in reports]
            except Exception as exc:  # one broken rule must not take the others down
                reason = _one_line(exc)
                result.errors.append(f"internal error in {code} on {shown}: {reason}")
                result.findings.append(self._internal_error(code, doc, reason, shown))
                log.debug("internal error in %s on %s\n%s", code, shown, traceback.format_exc())
                continue
            result.findings.extend(f for f in findings if f is not None)
        result.findings.extend(self._limit_notice(ctx, node, reason, shown) for node, reason in ctx.limits)
        _number_duplicate_anchors(result.findings)
        suppressions = parse_suppressions(ctx.text)
        findings = apply_suppressions(result.findings, suppressions, shown, self.catalogue, enabled_codes=enabled)
        result.findings = sorted(
            (f.with_severity(config.severity_for(f.code, f.severity)) for f in findings),
            key=lambda f: (f.span.start_line, f.span.start_col, f.code),
        )
        return result

    def source_error_result(self, shown: str, error: SourceError, text: Optional[str],
                            path: Optional[Path] = None) -> FileResult:
        doc = self.catalogue.get("HPL000")
        line, col = _clamp(text, error.line, error.col)
        severity = self.config_for(path).severity_for(
            "HPL000", Severity.WARNING if error.limitation else (doc.severity if doc else Severity.ERROR))
        finding = self._hpl000(error.message, shown, Span(line, col, line, col), severity, error.message)
        return FileResult(shown, [finding], text)

    def _hpl000(self, message: str, shown: str, span: Span, severity: Severity, anchor: str) -> Finding:
        """A finding about the run itself on this file (HPL000: a file hplint
        could not fully check), which no comment can suppress."""
        meta = self.catalogue.get("HPL000")
        return Finding(code="HPL000", name=meta.name if meta else "unreadable-file", severity=severity,
                       message=message, path=shown, span=span, anchor=anchor)

    def _limit_notice(self, ctx: ModuleContext, node, reason: str, shown: str) -> Finding:
        """An analysis of this file that stopped early (its statement budget
        spent): an HPL000 warning where it stopped, since rules that need its
        facts may have missed findings."""
        start = ctx.span(node) if node is not None else Span(1, 1, 1, 1)
        return self._hpl000(reason, shown, Span(start.start_line, start.start_col, start.start_line, start.start_col),
                            self.config_for(ctx.path).severity_for("HPL000", Severity.WARNING), "analysis-stopped")

    def _internal_error(self, code: str, doc: RuleDoc, reason: str, shown: str) -> Finding:
        """The finding that says a rule crashed on this file, so the run never
        looks clean when something was not checked."""
        message = (f"internal error in {code} ({doc.name}): {reason}. The other rules checked this file; "
                   f"{code} did not. Please report it with the output of `hplint check --verbose {shown}`.")
        return self._hpl000(message, shown, Span(1, 1, 1, 1), Severity.ERROR, f"internal-error:{code}")

    # -- report -> finding -------------------------------------------------
    def _finding(self, report: Report, doc: RuleDoc, ctx: ModuleContext, shown: str) -> Optional[Finding]:
        node_ctx = report.ctx or ctx
        if node_ctx is not ctx:
            return None  # each file reports only on its own lines
        related = tuple(
            RelatedLocation(shown if rctx is ctx else display_path(rctx.path), rctx.span(rnode), message)
            for rctx, rnode, message in report.related
        )
        return Finding(
            code=doc.code,
            name=doc.name,
            severity=report.severity or doc.severity,
            message=doc.format_message(**report.fields),
            path=shown,
            span=ctx.span(report.node),
            fix=self._fix(report.fix, ctx) if report.fix and not _spans_elided(report.fix, ctx) else None,
            related=related,
            anchor=ctx.anchor(report.node, report.scope),
        )

    def _fix(self, spec: FixSpec, ctx: ModuleContext) -> Fix:
        span = ctx.span(spec.node)
        edits: List[TextEdit] = []
        if spec.replacement is not None:
            from .fix.codegen import replacement_code  # keeps multi-line replacements indented

            edits.append(TextEdit(span, replacement_code(ctx.tree, spec.node, spec.replacement, ctx.text, span)))
        line_text = ctx.line_text(span.start_line)
        indent = line_text[: len(line_text) - len(line_text.lstrip())]
        if spec.insert_before_line is not None:
            edits.append(TextEdit(Span.point(span.start_line, 1), f"{indent}{spec.insert_before_line}\n"))
        if spec.insert_after_line is not None:
            edits.append(TextEdit(Span.point(span.end_line + 1, 1), f"{indent}{spec.insert_after_line}\n"))
        return Fix(spec.description, tuple(edits), spec.safety)

    # -- many files ------------------------------------------------------------
    def lint_paths(self, files: Sequence[Path], jobs: Optional[int] = None,
                   on_file_done: Optional[ProgressCallback] = None) -> List[FileResult]:
        """Lint `files` (in `jobs` worker processes when there are enough);
        `on_file_done(count, total)` is told as files finish."""
        return sorted((r for r in self.lint_many(files, jobs, on_file_done) if not r.skipped),
                      key=lambda r: r.path)

    def lint_many(self, files: Sequence[Path], jobs: Optional[int] = None,
                  on_file_done: Optional[ProgressCallback] = None) -> List[FileResult]:
        """One result per file, skipped ones included, in no particular order
        (in a process pool, results carry no source text)."""
        jobs = jobs or os.cpu_count() or 1
        files = list(files)
        done = _counter(len(files), on_file_done)
        with BatchGC(self.project) as collector:
            if jobs <= 1 or len(files) < 2 * jobs:
                results = []
                for f in files:
                    results.append(self.lint_file(f))
                    collector.after_file()
                    done(1)
                return results
            for code in self.rules:  # import the rules once here, not in every forked worker
                self.rules[code]
            # Forked inside the batch: the workers inherit its GC settings and frozen heap.
            return _lint_parallel(self.resolver or self.config, files, jobs, self.track_dependencies, done)


class BatchGC:
    """Memory and garbage collection while a batch of files is linted
    (`lint_many`, a pool worker).

    Why: CPython starts a full collection whenever the objects that survived
    the young generations pass 25% of the long-lived heap, and a full
    collection walks every object alive, here every cached tree. A run parses
    files faster than that heap grows, so on torch's first 1,500 files full
    collections were 49% of the CPU time (56 s of 115 s; the bare parse of the
    same files, 44 s). libcst's trees hold no reference cycles; what kept an
    evicted file's tree alive was its context, a cycle with its facts.

    So while a batch runs, automatic full collections are off (the young
    generations are collected as before), what was alive when it started is
    frozen (imported modules, the catalogue: `gc.freeze()`, never walked
    again), and between two files, once the project index has dropped half
    its byte bound, the index releases every context (`release_all`: their
    facts dropped, so reference counting frees the trees at once) and one
    full collection sweeps what is left, over a heap that is then nearly
    empty. Memory stays within the index's bound plus half of it.

    Leaves the caller's settings as they were; freezes only when nothing
    else froze (the language server has its own settings, server/gctune.py)."""

    GEN2_OFF = 1_000_000  # gen2 threshold: young collections between automatic full ones

    def __init__(self, project: ProjectIndex) -> None:
        self.project = project
        self.enabled = False
        self.froze = False
        self.saved = gc.get_threshold()
        self.collections = 0

    def __enter__(self) -> "BatchGC":
        self.enabled = gc.isenabled()
        self.saved = gc.get_threshold()
        if self.enabled:
            self.froze = gc.get_freeze_count() == 0
            if self.froze:
                gc.freeze()
            gc.set_threshold(self.saved[0], self.saved[1], self.GEN2_OFF)
        self.project.evicted_bytes = 0
        return self

    def after_file(self) -> None:
        """Between two files: release the cache once enough of it was dropped."""
        if self.project.evicted_bytes >= self.project.max_bytes // 2:
            self.project.release_all()
            if self.enabled:
                gc.collect()
            self.collections += 1

    def __exit__(self, *exc_info) -> None:
        if self.enabled:
            gc.set_threshold(*self.saved)
            if self.froze:
                gc.unfreeze()


def _spans_elided(spec: FixSpec, ctx: ModuleContext) -> bool:
    """Does the fix's node span a data literal libcst was given empty? Its
    code would then be rendered without the data: no fix is offered."""
    if not ctx.elided_lines:
        return False
    span = ctx.span(spec.node)
    return any(span.start_line <= last and first <= span.end_line for first, last in ctx.elided_lines)


def _counter(total: int, on_file_done: Optional[ProgressCallback]) -> Callable[[int], None]:
    """`done(n)`: n more files finished; tells `on_file_done` the running count."""
    count = 0

    def done(n: int) -> None:
        nonlocal count
        count += n
        if on_file_done is not None:
            on_file_done(count, total)

    return done


def _clamp(text: Optional[str], line: int, col: int):
    """A position inside `text`: CPython puts errors at end of file on the line
    after the last one (with CRLF endings), and columns may pass a line's end."""
    if text is None:
        return max(line, 1), max(col, 1)
    from .text_lines import split_lines

    lines = split_lines(text) or [""]
    if line > len(lines):
        return len(lines), len(lines[-1]) + 1
    line = max(line, 1)
    return line, min(max(col, 1), len(lines[line - 1]) + 1)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    detail = text[0][:200] if text else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _number_duplicate_anchors(findings: List[Finding]) -> None:
    """Two identical flagged snippets in one scope get distinct fingerprints."""
    seen: Counter = Counter()
    for i, finding in enumerate(findings):
        key = (finding.code, finding.anchor)
        seen[key] += 1
        if seen[key] > 1:
            findings[i] = Finding(**{**finding.__dict__, "anchor": f"{finding.anchor}#{seen[key]}"})


# -- process pool -----------------------------------------------------------------
_worker_linter: Optional[Linter] = None


def _worker(settings: Union[Config, Resolver], track_dependencies: bool = False) -> Linter:
    """A linter for the pool: the run's resolver (each file its own configuration) or its one config."""
    if isinstance(settings, Resolver):
        return Linter(resolver=settings, track_dependencies=track_dependencies)
    return Linter(settings, track_dependencies=track_dependencies)


_worker_gc: Optional[BatchGC] = None


def _init_worker(settings: Union[Config, Resolver], track_dependencies: bool = False) -> None:
    global _worker_linter, _worker_gc
    _worker_linter = _worker(settings, track_dependencies)
    # For the worker's whole life (a forked worker already has the batch's settings).
    _worker_gc = BatchGC(_worker_linter.project).__enter__()


def _lint_chunk(paths: List[str]) -> List[FileResult]:
    assert _worker_linter is not None
    out = []
    for p in paths:
        result = _worker_linter.lint_file(Path(p))
        result.source = None  # do not ship file texts back through the pipe
        out.append(result)
        if _worker_gc is not None:
            _worker_gc.after_file()
    return out


def schedule(files: Sequence[Path], jobs: int, per_worker: int = 4) -> List[List[str]]:
    """The pool's chunks: about `jobs * per_worker` runs of files of similar
    total size, each one stretch of the files sorted by path.

    Why: a worker parses every project module its files import, so when a
    module and its importers (mostly its own directory and the ones beside
    it) go to different workers, each parses it again (+22% CPU at -j 2 on
    torch's sources when files were dealt round-robin by size). Sorted by
    path parts, a directory's files and its subdirectories are one stretch;
    a chunk ends at the first change of directory once it has its share of
    bytes, or in the middle of a directory bigger than one and a half shares.
    Chunks go out biggest first, so the last to finish are small ones."""
    sized = sorted(((Path(os.path.abspath(f)).parts, str(f), _size(f)) for f in files))
    total = sum(size for _, _, size in sized)
    share = max(total / max(jobs * per_worker, 1), 1.0)
    chunks: List[List[str]] = []
    bytes_in: List[int] = []
    current: List[str] = []
    current_bytes = 0
    for i, (parts, name, size) in enumerate(sized):
        current.append(name)
        current_bytes += size
        next_dir = sized[i + 1][0][:-1] if i + 1 < len(sized) else None
        if next_dir is None or (current_bytes >= share and next_dir != parts[:-1]) or current_bytes >= 1.5 * share:
            chunks.append(current)
            bytes_in.append(current_bytes)
            current, current_bytes = [], 0
    order = sorted(range(len(chunks)), key=lambda k: -bytes_in[k])  # stable: ties keep path order
    return [chunks[k] for k in order]


def _lint_parallel(settings: Union[Config, Resolver], files: List[Path], jobs: int, track: bool = False,
                   done: Callable[[int], None] = lambda n: None) -> List[FileResult]:
    chunks = schedule(files, jobs)
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    results: List[FileResult] = []
    unfinished: List[str] = []
    with _pool(settings, jobs, track) as pool:
        futures = {pool.submit(_lint_chunk, chunk): chunk for chunk in chunks if chunk}
        for future in as_completed(futures):
            try:
                results.extend(future.result())
            except BrokenProcessPool:
                unfinished.extend(futures[future])
                continue
            done(len(futures[future]))
    if unfinished:
        # A worker died (a crash in native code, the OOM killer): every chunk it
        # shared the pool with failed too. Lint those files again one at a time,
        # each in a fresh worker, so only the file that kills it is lost.
        results.extend(_lint_one_by_one(settings, unfinished, track, done))
    return results


def _pool(settings: Union[Config, Resolver], jobs: int, track: bool = False) -> "ProcessPoolExecutor":
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if sys.platform.startswith("linux") else None
    context = multiprocessing.get_context(method)
    return ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=(settings, track))


def _lint_one_by_one(settings: Union[Config, Resolver], paths: List[str], track: bool = False,
                     done: Callable[[int], None] = lambda n: None) -> List[FileResult]:
    from concurrent.futures.process import BrokenProcessPool

    results: List[FileResult] = []
    pool = _pool(settings, 1, track)
    try:
        for path in paths:
            try:
                results.extend(pool.submit(_lint_chunk, [path]).result())
            except BrokenProcessPool:
                results.append(_crashed_result(settings, path))
                pool.shutdown(wait=True)
                pool = _pool(settings, 1, track)
            done(1)
    finally:
        pool.shutdown(wait=True)
    return results


def _crashed_result(settings: Union[Config, Resolver], path: str) -> FileResult:
    shown = display_path(Path(path))
    message = (f"internal error: the process linting {shown} died (a crash in native code or out of memory); "
               "the other files were linted. Please report it with this file.")
    result = _worker(settings).source_error_result(shown, SourceError(message), None, Path(path))
    result.errors.append(message)
    return result


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
