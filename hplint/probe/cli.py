"""`hplint probe SCRIPT [options] -- [script args]`.

Exit codes: 0 the probe ran (whatever the verdicts); 1 the script could not be
probed (crash, missing data, timeout, no optimizer, torch or CUDA missing);
2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, List, Optional

from .render import render_json, render_text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hplint probe",
        description="Run a training script briefly under instrumentation and confirm hplint's findings "
                    "with measured figures. Arguments after `--` go to the script.")
    p.add_argument("script", type=Path)
    p.add_argument("--steps", type=int, default=20,
                   help="measure this many optimizer steps (default 20), then stop, or fast-forward until "
                        "the evaluation code a finding points at has run")
    p.add_argument("--batches-per-loader", type=int, default=None, metavar="K",
                   help="cut every DataLoader pass to K batches (default: half the steps)")
    p.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                   help="kill the script (and its children) after this long (default 300); a fast-forward "
                        "ends a little before it")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="cpu hides GPUs from the script; cuda fails clearly where CUDA is missing; "
                        "auto leaves the choice to the script (the report says where the model ran)")
    p.add_argument("--no-fast-forward", action="store_true",
                   help="stop at --steps even when evaluation code with a finding has not run yet "
                        "(default: fast-forward, one batch per loader pass, until it has or --timeout)")
    p.add_argument("--overfit-batch", type=int, default=0, metavar="N",
                   help="train on one fixed batch for N steps and report whether the loss approaches zero")
    p.add_argument("--lr-find", type=int, default=0, metavar="K",
                   help="first run an exponential learning-rate range test over K steps (model, optimizer "
                        "and lr restored afterwards), then the probe steps")
    p.add_argument("--lr-range", type=float, nargs=2, default=(1e-7, 10.0), metavar=("LOW", "HIGH"),
                   help="the range test's learning rates (default 1e-7 10)")
    p.add_argument("--output-format", choices=("text", "json"), default="text")
    p.add_argument("--report", type=Path, metavar="PATH",
                   help="also write the report here: a self-contained HTML page for .html/.htm, else JSON")
    p.add_argument("--plot", type=Path, metavar="PATH", help="write a PNG of the figures (needs matplotlib)")
    p.add_argument("--nproc-per-node", type=int, default=1, metavar="P",
                   help="run under torchrun with P processes, each instrumented")
    p.add_argument("--select", action="append", metavar="CODES", help="only probe these rule codes")
    p.add_argument("--no-save", action="store_true", help="do not keep the report under .hplint/probe/")
    return p


def split_argv(argv: List[str]):
    if argv and argv[0] == "probe":
        argv = argv[1:]
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def run_probe_command(argv: List[str]) -> int:
    own, script_args = split_argv(list(argv))
    parser = build_parser()
    args, extra = parser.parse_known_args(own)
    script_args = extra + script_args  # script options given without `--`
    if not args.script.is_file():
        parser.error(f"no such script: {args.script}")
    if args.steps < 1 or (args.batches_per_loader is not None and args.batches_per_loader < 1):
        parser.error("--steps and --batches-per-loader must be at least 1")
    if args.nproc_per_node < 1 or args.timeout <= 0:
        parser.error("--nproc-per-node must be at least 1 and --timeout positive")
    if args.overfit_batch < 0 or args.lr_find < 0 or (args.overfit_batch and args.lr_find):
        parser.error("--overfit-batch and --lr-find take a positive count, and one of them at a time")
    if args.lr_find and args.lr_find < 4:
        parser.error("--lr-find needs at least 4 steps")
    if not 0 < args.lr_range[0] < args.lr_range[1]:
        parser.error("--lr-range needs 0 < LOW < HIGH")
    from . import store
    from .plot import write_plot
    from .session import run_probe

    select = [c.strip().upper() for s in args.select or [] for c in s.split(",") if c.strip()] or None
    from ..analysis.source import SourceError
    from .runner import ProbeInterrupted

    notebook: Optional[Any] = None  # a notebook's code cells, written as a temporary script
    if str(args.script).lower().endswith(".ipynb"):  # run the code cells in order as one script
        from ..notebook import write_probe_script

        written = write_probe_script(args.script)
        if isinstance(written, SourceError):
            parser.error(f"{args.script}: {written.message}")
        notebook = written
        if notebook.note:
            print(f"hplint probe: {notebook.note}", file=sys.stderr)
    try:
        report = run_probe(notebook.path if notebook else args.script, script_args, steps=args.steps,
                           batches_per_loader=args.batches_per_loader, timeout=args.timeout, device=args.device,
                           nproc=args.nproc_per_node, select=select, overfit_batch=args.overfit_batch,
                           lr_find=args.lr_find, lr_bounds=tuple(args.lr_range),
                           fast_forward=not args.no_fast_forward)
    except KeyboardInterrupt:
        print("hplint probe: interrupted; the script and everything it started were stopped", file=sys.stderr)
        return 130
    except ProbeInterrupted as exc:
        print(f"hplint probe: got {exc}; the script and everything it started were stopped", file=sys.stderr)
        return 128 + exc.signum
    finally:
        if notebook is not None:
            notebook.remove()
    texts = report.pop("_texts", {})
    if not args.no_save and report["ok"]:
        try:
            saved = store.save(store.project_root_for(args.script), report, texts)
            report["saved_to"] = str(saved)
        except OSError as exc:
            print(f"hplint probe: could not save the report: {exc}", file=sys.stderr)
    if notebook is not None:
        notebook.map_report(report, str(args.script))
    if args.plot:
        problem = write_plot(report, str(args.plot))
        if problem:
            print(f"hplint probe: {problem}", file=sys.stderr)
    if args.report:
        try:
            if args.report.suffix.lower() in (".html", ".htm"):
                from .html_report import render_html
                from .plot import figure_png

                png, _problem = figure_png(report)
                args.report.write_text(render_html(report, png or b""), encoding="utf-8")
            else:
                args.report.write_text(render_json(report), encoding="utf-8")
        except OSError as exc:
            print(f"hplint probe: cannot write the report to {args.report}: {exc}", file=sys.stderr)
    out = render_json(report) if args.output_format == "json" else render_text(report)
    sys.stdout.write(out)
    sys.stdout.flush()
    return 0 if report["ok"] else 1
