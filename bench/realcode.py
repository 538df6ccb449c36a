#!/usr/bin/env python3
"""Rerun hplint's real-code evaluation on pinned snapshots of public repositories.

Standard library only; hplint itself runs as a subprocess
(``python -m hplint check --output-format json --exit-zero --no-cache -j 1``).

Snapshots are not downloaded by this script. Extract each repository at the
pinned commit under ``--repos DIR`` (default /work/eval/repos), in a folder
named like the entry's ``name`` (e.g. ``pytorch-examples`` holds pytorch/examples
at 77f55b91...); this repository never keeps their code.

Absent snapshots are skipped with a line. Entries marked ``notebooks`` also
have their ``.ipynb`` files converted to scripts (code cells joined, IPython
magics and shell escapes commented out) under ``--nb-dir`` and linted; their
findings are reported under the notebook's path with the line number of the
converted script.

Usage::

    python bench/realcode.py                          # table of findings per rule per repo
    python bench/realcode.py --judgements bench/realcode_judgements.json   # + precision per rule ("rules" = HPL001-010), unjudged findings
    python bench/realcode.py --dump findings.json     # also write every raw finding
    python bench/realcode.py --only pytorch-examples,nanoGPT

Judgements file: a JSON object whose keys are
``"repo|path|code|line|sha1 of the stripped source line (12 hex digits)"`` and whose values are
``{"verdict": "true"|"false"|"debatable", "why": "..."}`` (optionally
``"by_message": {"substring": verdict}`` for several findings on one line). A finding matches
a judgement with the same repo, path, code and source text (the nearest line
wins, so small line shifts are tolerated), else one with the same repo, path,
code and line.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

# (name, GitHub owner/repo, pinned commit, subfolders linted, notebooks converted)
REPOS = [
    ("pytorch-examples", "pytorch/examples", "77f55b912142e11fcfdf5b530231fb9c52f181e8", ["."], False),
    ("pytorch-cifar", "kuangliu/pytorch-cifar", "49b7aa97b0c12fe0d4054e670403a16b6b834ddd", ["."], False),
    ("pytorch-cifar100", "weiaicunzai/pytorch-cifar100", "11d8418f415b261e4ae3cb1ffe20d06ec95b98e4", ["."], False),
    ("PyTorch-GAN", "eriklindernoren/PyTorch-GAN", "36d3c77e5ff20ebe0aeefd322326a134a279b93e", ["."], False),
    ("pytorch-MNIST-CelebA-GAN-DCGAN", "znxlwm/pytorch-MNIST-CelebA-GAN-DCGAN", "c88438c7807326492757623bf9117ee2eb5de8bf", ["."], False),
    ("wgan-gp", "caogang/wgan-gp", "ae47a185ed2e938c39cf3eb2f06b32dc1b6a2064", ["."], False),
    ("awd-lstm-lm", "salesforce/awd-lstm-lm", "1d466ec5875675ca6b6f0caacbb741240a29da9e", ["."], False),
    ("pytorch-seq2seq", "bentrevett/pytorch-seq2seq", "b3cd54c72cd6e4e63f672d334c795b4fe744ef92", ["."], True),
    ("practical-pytorch", "spro/practical-pytorch", "c520c52e68e945d88fff563dba1c028b6ec0197b", ["."], True),
    ("RL-Adventure", "higgsfield/RL-Adventure", "0f82b6922e8a1a8515fc4c84c28702e7caa226f1", ["."], True),
    ("pytorch-a2c-ppo-acktr-gail", "ikostrikov/pytorch-a2c-ppo-acktr-gail", "41332b78dfb50321c29bade65f9d244387f68a60", ["."], False),
    ("spinningup", "openai/spinningup", "038665d62d569055401d91856abb287263096178", ["spinup/algos/pytorch"], False),
    ("nerf-pytorch", "yenchenlin/nerf-pytorch", "63a5a630c9abd62b0f21c08703d0ac2ea7d4b9dd", ["."], False),
    ("nerf_pl", "kwea123/nerf_pl", "52aeb387da64a9ad9a0f914ea9b049ffc598b20c", ["."], False),
    ("DeepCTR-Torch", "shenweichen/DeepCTR-Torch", "f6854257b1fc29caab655ce72c6b5528b7432574", ["deepctr_torch", "examples"], False),
    ("pytorch-fm", "rixwew/pytorch-fm", "f74ad19771eda104e99874d19dc892e988ec53fa", ["."], False),
    ("tabnet", "dreamquark-ai/tabnet", "2c0c4ebd2bb1cb639ea94ab4b11823bc49265588", ["pytorch_tabnet"], False),
    ("optuna-examples", "optuna/optuna-examples", "2e0b10bc54501e801687e114de3cbe1b6d2407dc", ["."], True),
    ("wandb-examples", "wandb/examples", "5cab88702fc51edfb4afc79a1de89e9acf6cb605",
     ["examples/pytorch", "examples/pytorch-lightning", "examples/pytorch-ignite", "examples/wandb-sweeps",
      "examples/ray-tune", "colabs/pytorch", "colabs/pytorch-lightning"], True),
    ("lightning-tutorials", "Lightning-AI/tutorials", "15817658a2d63afa338b9e1cd8454fb98d746fac", ["course_UvA-DL", "lightning_examples"], False),
    ("deep-learning-v2-pytorch", "udacity/deep-learning-v2-pytorch", "c9404fc86181fc3f0906b368697268257f348535", ["."], True),
    ("d2l-en", "d2l-ai/d2l-en", "23d7a5aecceee57d1292c56e90cce307f183bb0a", ["d2l/torch.py"], False),
    ("nanoGPT", "karpathy/nanoGPT", "3adf61e154c3fe3fca428ad6bc3818b27a3b8291", ["."], False),
    ("attention-is-all-you-need-pytorch", "jadore801120/attention-is-all-you-need-pytorch", "132907dd272e2cc92e3c10e6c4e783a87ff8893d", ["."], False),
    ("pytorch-tutorial", "yunjey/pytorch-tutorial", "0500d3df5a2a8080ccfccbc00aca0eacc21818db", ["."], False),
    ("pytorch-sentiment-analysis", "bentrevett/pytorch-sentiment-analysis", "329f654b2cfaed22fee432569ebd7a2674584f79", ["."], True),
    ("skorch", "skorch-dev/skorch", "5db0ddc962117a2c3a646910ecd2e70253ff8e87", ["skorch", "examples", "notebooks"], True),
]

RULES = [f"HPL{i:03d}" for i in range(0, 11)] + ["HPL100"]


def notebook_to_script(path: Path) -> str:
    """Code cells of a notebook as one script; magics / shell escapes commented out."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    out: list[str] = []
    cells = nb.get("cells")
    if cells is None:  # nbformat 3
        cells = [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", cell.get("input", ""))
        text = "".join(src) if isinstance(src, list) else str(src)
        for line in text.splitlines():
            s = line.lstrip()
            if s.startswith(("%", "!", "?")) or s.endswith("?") and not s.startswith("#"):
                line = "# " + line
            out.append(line)
        out.append("")
    return "\n".join(out) + "\n"


def py_files(root: Path, sub: str) -> list[Path]:
    p = root / sub
    if p.is_file():
        return [p]
    return sorted(q for q in p.rglob("*.py") if q.is_file())


def count_lines(files: list[Path]) -> int:
    n = 0
    for f in files:
        try:
            n += f.read_bytes().count(b"\n")
        except OSError:
            pass
    return n


def run_hplint(python: str, pythonpath: str | None, cwd: Path, paths: list[str], config: Path) -> tuple[list[dict], float]:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    cmd = [python, "-m", "hplint", "check", "--output-format", "json", "--exit-zero", "--no-cache", "-j", "1",
           "--config", str(config), *paths]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        print(f"  hplint exited {r.returncode}: {r.stderr.strip()[-500:]}", file=sys.stderr)
        return [], dt
    try:
        return json.loads(r.stdout)["findings"], dt
    except (ValueError, KeyError):
        print(f"  unreadable hplint output: {r.stdout[:200]!r}", file=sys.stderr)
        return [], dt


def source_line(path: Path, line: int) -> str:
    """A hash of the stripped source line: it keys judgements so that they
    survive small line shifts, without keeping the repositories' code here."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    except OSError:
        text = ""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def load_judgements(path: Path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    by_text: dict[tuple, list[tuple[int, str]]] = defaultdict(list)
    by_line: dict[tuple, str] = {}
    for key, val in raw.items():
        repo, fpath, code, line, text = key.split("|", 4)
        if not isinstance(val, dict):
            val = {"verdict": str(val)}
        by_text[(repo, fpath, code, text)].append((int(line), val))
        by_line[(repo, fpath, code, int(line))] = val
    return by_text, by_line


def judge(f: dict, judgements) -> str | None:
    by_text, by_line = judgements
    cands = by_text.get((f["repo"], f["path"], f["code"], f["text"]))
    if cands:
        val = min(cands, key=lambda c: abs(c[0] - f["line"]))[1]
    else:
        val = by_line.get((f["repo"], f["path"], f["code"], f["line"]))
    if val is None:
        return None
    # several findings on one line (e.g. two BatchNorms fed by one conv): the
    # first ``by_message`` substring found in the message decides
    for sub, verdict in val.get("by_message", {}).items():
        if sub in f["message"]:
            return verdict
    return val["verdict"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", default="/work/eval/repos", help="folder holding one extracted snapshot per entry")
    ap.add_argument("--python", default=sys.executable, help="interpreter that has hplint installed")
    ap.add_argument("--pythonpath", default=None, help="PYTHONPATH for hplint (e.g. a pinned checkout)")
    ap.add_argument("--judgements", default=None, help="JSON of judged findings; prints precision per rule")
    ap.add_argument("--dump", default=None, help="write every finding (with source text) to this JSON file")
    ap.add_argument("--nb-dir", default=None, help="where converted notebooks go (default: a temporary folder)")
    ap.add_argument("--only", default=None, help="comma-separated entry names")
    args = ap.parse_args()

    repos_dir = Path(args.repos)
    only = set(args.only.split(",")) if args.only else None
    tmp = tempfile.TemporaryDirectory()
    nb_root = Path(args.nb_dir) if args.nb_dir else Path(tmp.name) / "nb"
    # Defaults, independent of any pyproject found. Notebooks are linted through
    # their converted scripts (the judgements are keyed by those lines), so
    # hplint's own notebook reading is kept out of this comparison.
    config = Path(tmp.name) / "hplint.toml"
    config.write_text('exclude = ["*.ipynb"]\n', encoding="utf-8")

    rows = []
    allf: list[dict] = []
    for name, gh, commit, subs, notebooks in REPOS:
        if only and name not in only:
            continue
        root = repos_dir / name
        if not root.is_dir():
            print(f"skip {name}: no snapshot at {root} (github:{gh} @ {commit[:7]})")
            continue
        files = [f for s in subs for f in py_files(root, s)]
        paths = [s for s in subs if (root / s).exists()]
        findings, dt = run_hplint(args.python, args.pythonpath, root, paths, config) if paths else ([], 0.0)
        for f in findings:
            p = f["path"][2:] if f["path"].startswith("./") else f["path"]
            allf.append({"repo": name, "path": p, "line": f["start"]["line"], "code": f["code"],
                         "message": f["message"], "text": source_line(root / p, f["start"]["line"])})
        nfiles, nlines = len(files), count_lines(files)
        if notebooks:
            nbs = sorted(q for s in subs for q in ((root / s).rglob("*.ipynb") if (root / s).is_dir() else []))
            conv = []
            for nb in nbs:
                rel = nb.relative_to(root).as_posix()
                if "/.ipynb_checkpoints/" in "/" + rel:
                    continue
                dest = nb_root / name / (rel + ".py")
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(notebook_to_script(nb), encoding="utf-8")
                conv.append(dest)
            if conv:
                nbf, dt2 = run_hplint(args.python, args.pythonpath, nb_root / name, ["."], config)
                dt += dt2
                for f in nbf:
                    p = f["path"][2:] if f["path"].startswith("./") else f["path"]
                    allf.append({"repo": name, "path": p[:-3] if p.endswith(".ipynb.py") else p,
                                 "line": f["start"]["line"], "code": f["code"], "message": f["message"],
                                 "text": source_line(nb_root / name / p, f["start"]["line"])})
                nfiles += len(conv)
                nlines += count_lines(conv)
        per = Counter(f["code"] for f in allf if f["repo"] == name)
        rows.append((name, commit[:7], ",".join(subs), nfiles, nlines, per, dt))
        print(f"done {name}: {nfiles} files, {nlines} lines, {sum(per.values())} findings, {dt:.1f}s", file=sys.stderr)

    used = [r for r in RULES if any(r in row[5] for row in rows)]
    hdr = ["repo", "commit", "files", "lines", "secs"] + used + ["total"]
    table = [hdr]
    tot = Counter()
    for name, c, _subs, nf, nl, per, dt in rows:
        tot.update(per)
        table.append([name, c, str(nf), str(nl), f"{dt:.1f}"] + [str(per.get(r, 0)) for r in used] + [str(sum(per.values()))])
    table.append(["TOTAL", "", str(sum(r[3] for r in rows)), str(sum(r[4] for r in rows)), f"{sum(r[6] for r in rows):.1f}"]
                 + [str(tot.get(r, 0)) for r in used] + [str(sum(tot.values()))])
    widths = [max(len(row[i]) for row in table) for i in range(len(hdr))]
    for row in table:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))

    if args.dump:
        Path(args.dump).write_text(json.dumps(allf, indent=1, ensure_ascii=False), encoding="utf-8")

    if args.judgements:
        j = load_judgements(Path(args.judgements))
        stats: dict[str, Counter] = defaultdict(Counter)
        unjudged = []
        for f in allf:
            v = judge(f, j)
            if v is None:
                unjudged.append(f)
                v = "unjudged"
            stats[f["code"]][v] += 1
        print()
        print(f"{'rule':7} {'findings':>8} {'true':>5} {'false':>5} {'debat.':>6} {'unjudged':>8} {'precision':>9}")
        all_c = Counter()
        for code in sorted(stats):
            s = stats[code]
            if code != "HPL000":  # unreadable files are not part of the rules' precision
                all_c.update(s)
            tf = s["true"] + s["false"]
            prec = f"{s['true'] / tf:.2f}" if tf else "-"
            print(f"{code:7} {sum(s.values()):8} {s['true']:5} {s['false']:5} {s['debatable']:6} {s['unjudged']:8} {prec:>9}")
        tf = all_c["true"] + all_c["false"]
        prec = f"{all_c['true'] / tf:.2f}" if tf else "-"
        print(f"{'rules':7} {sum(all_c.values()):8} {all_c['true']:5} {all_c['false']:5} {all_c['debatable']:6} "
              f"{all_c['unjudged']:8} {prec:>9}")
        for f in unjudged:
            print(f"unjudged {f['repo']}:{f['path']}:{f['line']}: {f['code']} {f['text'][:80]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
