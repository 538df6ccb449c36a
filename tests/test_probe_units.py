"""The probe's torch-free parts: thresholds, the noise-scale estimator, the
analytic HPL003/004 shares, the sparkline, the report store and its hook in
`hplint check`, and which files the static pass reads."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from hplint.engine import Linter
from hplint.probe import store
from hplint.probe.cli import split_argv
from hplint.probe.plot import write_plot
from hplint.probe.render import render_text, sparkline
from hplint.probe.sampling import beta_top_decade_share, lr_top_decade_share, share_for_target
from hplint.probe.targets import Target, project_files, static_targets
from hplint.probe.verdicts import health_checks, noise_scale, verdict_for


def target(code, path="x.py", line=3):
    return Target(code, path, line, 5, line, shown=path)


def test_sparkline_orders_and_marks_non_finite():
    line = sparkline([1, 2, 3, 4, 5, 6, 7, 8])
    assert line == "▁▂▃▄▅▆▇█"
    assert sparkline([1.0, "nan", 3.0]) == "▁!█"
    assert len(sparkline(list(range(500)), width=60)) <= 60


def test_noise_scale_recovers_known_values():
    g2, trace = 2.0, 400.0  # B_simple = 200
    samples = [{"batch": 1024, "b_small": 128, "b_big": 1024,
                "g2_small": g2 + trace / 128, "g2_big": g2 + trace / 1024}] * 3
    est = noise_scale(samples)
    assert est["b_simple"] == pytest.approx(200.0)
    assert verdict_for(target("HPL006"), 0, {"noise": samples}).verdict == "confirmed"
    near = [dict(s, batch=256) for s in samples]
    assert verdict_for(target("HPL006"), 0, {"noise": near}).verdict == "not confirmed"
    assert verdict_for(target("HPL006"), 0, {"noise": []}).verdict == "not exercised"


def test_grad_norm_verdicts():
    t = target("HPL005")
    assert verdict_for(t, 0, {"grad_norms": [1.0, 1.1, 0.9, 1.0]}).verdict == "not confirmed"
    assert verdict_for(t, 0, {"grad_norms": [1.0, 1.1, 7.0]}).verdict == "confirmed"  # above 5
    jump = verdict_for(t, 0, {"grad_norms": [0.1, 0.1, 0.1, 0.1, 3.0]})
    assert jump.verdict == "confirmed" and jump.measurements["largest_jump"] == pytest.approx(2.9)
    clipped = verdict_for(t, 0, {"grad_norms": [1.0, 70.0], "clip_calls": [{"kind": "clip_grad_norm_"}]})
    assert clipped.verdict == "not confirmed"
    assert verdict_for(t, 0, {"grad_norms": []}).verdict == "not exercised"


def test_batchnorm_and_bias_thresholds():
    def bn(shift):
        return {"targets": {"0": {"batchnorms": [{"site": "m.py:4", "layer": "BatchNorm1d",
                                                  "dropout_shift": shift}]}}}
    assert verdict_for(target("HPL001"), 0, bn(1.8)).verdict == "confirmed"
    assert verdict_for(target("HPL001"), 0, bn(0.85)).verdict == "confirmed"
    assert verdict_for(target("HPL001"), 0, bn(1.05)).verdict == "not confirmed"
    assert verdict_for(target("HPL001"), 0, {"targets": {}}).verdict == "not exercised"

    def layer(ratio):
        return {"targets": {"0": {"layers": {"m.py:3": {"site": "m.py:3", "layer": "Linear", "bias_params": 64,
                                                        "max_ratio": ratio, "steps": 5}}}}}
    assert verdict_for(target("HPL002"), 0, layer(3e-8)).verdict == "confirmed"
    assert verdict_for(target("HPL002"), 0, layer(0.2)).verdict == "not confirmed"


def test_mode_verdicts():
    events = {"mode_events": {"train_nograd": 3, "eval_nograd": 0, "eval_grad": 0}, "steps": 4,
              "mode_sites": [{"training": True, "grad": False, "module": "Dropout",
                              "called_from": ["/p/train.py:20"], "targets": [0]}]}
    assert verdict_for(target("HPL008"), 0, events).verdict == "confirmed"
    ok = {"mode_events": {"train_nograd": 0, "eval_nograd": 2, "eval_grad": 0}, "steps": 4,
          "mode_sites": [{"training": False, "grad": False, "module": "Dropout", "called_from": [], "targets": [0]}]}
    assert verdict_for(target("HPL008"), 0, ok).verdict == "not confirmed"
    assert verdict_for(target("HPL010"), 0, ok).verdict == "not confirmed"
    trains_in_eval = {"mode_events": {"eval_grad": 5}, "steps": 4, "mode_sites": [
        {"training": False, "grad": True, "module": "BatchNorm1d", "called_from": ["/p/t.py:9"], "targets": [0]}]}
    assert verdict_for(target("HPL010"), 0, trains_in_eval).verdict == "confirmed"
    assert verdict_for(target("HPL009"), 0, {"bn_train_min_batch": 4}).verdict == "confirmed"
    assert verdict_for(target("HPL009"), 0, {"bn_train_min_batch": 64}).verdict == "not confirmed"


def test_analytic_shares(tmp_path):
    assert lr_top_decade_share(1e-4, 1.0) == pytest.approx(0.9 / (1 - 1e-4))
    assert beta_top_decade_share(0.9, 0.999) == pytest.approx(0.09 / 0.099)
    assert lr_top_decade_share(0.05, 0.1) == 1.0  # the whole range sits in the top decade
    src = tmp_path / "search.py"
    src.write_text('lr = trial.suggest_float("lr", 1e-4, 1.0)\nb = tune.uniform(0.9, 1 - 1e-3)\n')
    lr = share_for_target(Target("HPL003", str(src), 1, 6, 1, end_col=42))
    assert lr["low"] == 1e-4 and lr["share_top_decade"] == pytest.approx(0.90009, rel=1e-4)
    beta = verdict_for(Target("HPL004", str(src), 2, 5, 2, end_col=37), 0, None)
    assert beta.verdict == "confirmed" and beta.measurements["high"] == pytest.approx(0.999)


def test_health_checks():
    m = {"ce_initial": {"classes": 10, "loss": 9.0}, "losses": [3.0, 2.5, 2.0, 1.5, 1.2, 1.0],
         "grad_norms": [1.0, "nan"], "update_ratios": [1e-3, 2e-3]}
    h = {x.check: x for x in health_checks(m)}
    assert h["initial-loss"].status == "warning"
    assert h["non-finite"].status == "failed"
    assert h["loss-decreasing"].status == "ok"
    assert h["update-ratio"].status == "ok"
    flat = {x.check: x for x in health_checks({"losses": [1.0, 1.0, 1.1, 1.2], "update_ratios": [0.5]})}
    assert flat["loss-decreasing"].status == "warning" and flat["update-ratio"].status == "warning"


MLP = """import torch.nn as nn

model = nn.Sequential(
    nn.Dropout(0.5),
    nn.BatchNorm1d(8),
)
"""


def test_store_annotates_only_matching_text(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(MLP)
    report = {"abs_script": str(path), "findings": [
        {"code": "HPL001", "line": 4, "column": 5, "verdict": "confirmed", "summary": "variance shift 2.50x",
         "abs_path": str(path)}]}
    linter = Linter()
    # The linter never reads probe reports: the verdicts join in their own step.
    assert linter.lint_file(path).findings[0].probe_note is None
    saved = store.save(tmp_path, report, {str(path): MLP})
    assert saved.parent == tmp_path / ".hplint" / "probe"
    assert linter.lint_file(path).findings[0].probe_note is None
    (finding,) = store.ProbeVerdicts().annotate(path, MLP, linter.lint_file(path).findings)
    assert finding.probe_note == "confirmed by probe: variance shift 2.50x"
    from hplint.report.text import format_finding

    assert format_finding(finding)[0].endswith("(confirmed by probe: variance shift 2.50x)")
    changed = MLP.replace("0.5", "0.4")
    (other,) = store.ProbeVerdicts().annotate(path, changed, linter.lint_text(changed, path).findings)
    assert other.probe_note is None


def test_store_lookup_is_cached(tmp_path, monkeypatch):
    path = tmp_path / "a.py"
    path.write_text(MLP)
    calls = []
    real = store.os.path.isdir
    monkeypatch.setattr(store.os.path, "isdir", lambda p: calls.append(p) or real(p))
    verdicts = store.ProbeVerdicts()
    findings = Linter().lint_file(path).findings
    verdicts.annotate(path, MLP, findings)
    first = len(calls)
    verdicts.annotate(path, MLP, findings)
    assert first >= 1 and len(calls) == first  # the second lookup does not stat again
    store.ProbeVerdicts().annotate(path, MLP, findings)
    assert len(calls) > first  # each owner has its own cache


def test_static_targets_follow_project_imports(tmp_path):
    (tmp_path / "models.py").write_text(MLP)
    (tmp_path / "train.py").write_text("from models import model\nimport torch\n")
    files = project_files(tmp_path / "train.py", [tmp_path])
    assert {f.name for f in files} == {"train.py", "models.py"}
    targets, findings, texts = static_targets(tmp_path / "train.py")
    assert [(t.code, Path(t.path).name, t.line) for t in targets] == [("HPL001", "models.py", 4)]
    assert targets[0].related[0].line == 5 and str(tmp_path / "models.py") in {str(Path(p)) for p in texts}


def test_static_targets_lint_each_file_with_its_own_config(tmp_path):
    # models.py sits in a sub-project whose config (extending the root's) turns HPL001 off
    (tmp_path / "pyproject.toml").write_text('[tool.hplint]\nselect = ["ALL"]\n')
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "hplint.toml").write_text('extend = "../pyproject.toml"\nignore = ["HPL001"]\n')
    (tmp_path / "lib" / "models.py").write_text(MLP)
    (tmp_path / "train.py").write_text(MLP + "from lib.models import model as other\n")
    (tmp_path / "lib" / "__init__.py").write_text("")
    targets, findings, texts = static_targets(tmp_path / "train.py")
    assert {Path(p).name for p in texts} >= {"train.py", "models.py"}  # both were linted
    assert {(f.code, Path(f.path).name) for f in findings if f.code == "HPL001"} == {("HPL001", "train.py")}
    assert store.project_root_for(tmp_path / "lib" / "models.py") == (tmp_path / "lib").resolve()


def test_cli_argv_split():
    own, rest = split_argv(["probe", "train.py", "--steps", "3", "--", "--epochs", "2"])
    assert own == ["train.py", "--steps", "3"] and rest == ["--epochs", "2"]


def test_plot_without_matplotlib(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    message = write_plot({"script": "t.py", "grad_norms": [1.0]}, str(tmp_path / "p.png"))
    assert "matplotlib" in message and not (tmp_path / "p.png").exists()


def test_text_report_shape():
    report = {"script": "t.py", "device": "cpu", "status": "stopped", "steps": 3, "elapsed_s": 1.0,
              "grad_norms": [1.0, 2.0, 3.0], "findings": [
                  {"code": "HPL001", "path": "t.py", "line": 4, "column": 5, "verdict": "confirmed",
                   "summary": "variance shift 2.00x"}], "health": []}
    text = render_text(report)
    assert "t.py:4:5: HPL001 CONFIRMED: variance shift 2.00x" in text
    assert "▁▅█" in text and "1 confirmed, 0 not confirmed, 0 not exercised." in text


def test_probe_modules_never_import_torch():
    import subprocess

    code = ("import sys, hplint.cli, hplint.engine, hplint.probe.cli, hplint.probe.session, "
            "hplint.probe.store, hplint.probe.runner; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_probe_thresholds_are_the_rule_options(tmp_path):
    """HPL009's and HPL005's verdicts use the rule's configured option (the
    catalogue default otherwise), not a copy of it."""
    from hplint.catalogue import load_catalogue
    from hplint.probe.targets import rule_options

    assert rule_options("HPL009")["min-batch-size"] == load_catalogue()["HPL009"].option_defaults()["min-batch-size"] == 8
    bn = {"bn_train_min_batch": 12}
    assert verdict_for(target("HPL009"), 0, bn).verdict == "not confirmed"  # default 8
    raised = Target("HPL009", "x.py", 3, 5, 3, shown="x.py", options={"min-batch-size": 16})
    assert verdict_for(raised, 0, bn).verdict == "confirmed"
    assert verdict_for(raised, 0, bn).measurements["threshold"] == 16
    norms = {"grad_norms": [1.0, 1.1, 2.5, 2.4]}
    assert verdict_for(target("HPL005"), 0, norms).verdict == "not confirmed"  # max-norm 5.0
    tight = Target("HPL005", "x.py", 3, 5, 3, shown="x.py", options={"max-norm": 2.0})
    assert verdict_for(tight, 0, norms).verdict == "confirmed"
    assert Target.from_json(raised.to_json()).options == {"min-batch-size": 16}  # it travels to the child


def test_static_targets_carry_the_projects_rule_options(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.hplint.rules.HPL009]\nmin-batch-size = 32\n", encoding="utf-8")
    script = tmp_path / "train.py"
    from hplint.catalogue import load_catalogue

    script.write_text(load_catalogue()["HPL009"].bad_example, encoding="utf-8")
    targets, _findings, _texts = static_targets(script)
    hpl009 = [t for t in targets if t.code == "HPL009"]
    assert hpl009 and hpl009[0].options == {"min-batch-size": 32}
    assert verdict_for(hpl009[0], 0, {"bn_train_min_batch": 16}).verdict == "confirmed"


def test_noise_scale_estimator_on_synthetic_gradients():
    """Per-sample gradients G + noise with a known covariance: chunks of 64 and
    the step's 2048 samples, over 6 steps, recover B_simple = tr(Sigma) / |G|^2."""
    import random

    rng = random.Random(1)
    dim, sigma = 20, 1.0
    G = [0.25] * dim  # |G|^2 = 1.25; tr(Sigma) = 20: B_simple = 16
    samples = []
    for _ in range(6):
        chunks = []
        for _ in range(32):
            chunk = [sum(G[d] + rng.gauss(0, sigma) for _ in range(64)) / 64 for d in range(dim)]
            chunks.append(chunk)
        big = [sum(c[d] for c in chunks) / len(chunks) for d in range(dim)]
        samples.append({"batch": 4096, "b_small": 64, "b_big": 2048,
                        "g2_small": sum(sum(v * v for v in c) for c in chunks) / len(chunks),
                        "g2_big": sum(v * v for v in big)})
    est = noise_scale(samples)
    assert est["b_simple"] == pytest.approx(16.0, rel=0.25)
    assert est["batch_size"] == 4096 and len(est["b_simple_per_step"]) == 6
    lo, hi = est["b_simple_range"]
    assert lo < est["b_simple"] < hi and est["b_simple_spread"] > 0
    v = verdict_for(target("HPL006"), 0, {"noise": samples, "step_backwards": [8] * 6})
    assert v.verdict == "confirmed" and "accumulated over 8 backward passes" in v.summary
    assert "per step" in v.summary


def test_not_exercised_says_why():
    from hplint.probe.verdicts import why_not_exercised

    t = Target("HPL008", "/p/t.py", 20, 5, 20, shown="t.py", function={"name": "evaluate", "line": 16, "first": 16})
    assert why_not_exercised(t, {"end": {"status": "completed"}}, "?") == \
        "evaluate() is never called: the script ran to its end without calling it"
    assert why_not_exercised(t, {"end": {"status": "exited", "exit_line": 42}}, "?") == \
        "evaluate() is never called: the script exited at line 42 first"
    timeout = why_not_exercised(t, {"end": {"status": "stopped"}, "stop_reason": "timeout",
                                    "fast_forward": {"active": True, "steps": 90}}, "?")
    assert timeout.startswith("the code never ran before the timeout") and "90 steps" in timeout
    called = {"end": {"status": "completed"}, "functions_called": {"/p/t.py:16": 3}}
    assert why_not_exercised(t, called, "?") == "evaluate() ran, but never reached line 20 with dropout/BatchNorm in it"
    module_level = Target("HPL010", "/p/t.py", 30, 1, 30)
    assert why_not_exercised(module_level, {"end": {"status": "exited", "exit_line": 7}}, "?") == \
        "the script exited at line 7 before this code ran"
    verdict = verdict_for(t, 0, {"end": {"status": "completed"}, "mode_events": {}, "steps": 5})
    assert verdict.verdict == "not exercised" and "never called" in verdict.summary


def test_overfit_and_lr_find_results():
    from hplint.probe.verdicts import lr_find_result, overfit_result

    fit = overfit_result([2.0, 1.0, 0.5, 0.1, 0.05, 0.04, 0.03], 7, batches_served=7)
    assert fit["passed"] is True and fit["final"] == pytest.approx(0.04)
    stuck = overfit_result([2.0, 1.9, 1.8, 1.8, 1.7], 5, batches_served=5)
    assert stuck["passed"] is False and "does not approach zero" in stuck["detail"]
    assert overfit_result([1.0, 0.5], 2, batches_served=0)["passed"] is None  # no DataLoader to hold fixed
    lrs = [1e-5 * 10 ** (i / 4) for i in range(21)]  # 1e-5 .. 1
    loss = [1.0 if lr < 1e-3 else max(0.1, 1.0 - 0.45 * (math.log10(lr) + 3)) if lr < 0.1 else 5.0 for lr in lrs]
    result = lr_find_result({"trace": [{"lr": a, "loss": b} for a, b in zip(lrs, loss)], "script_lrs": [1e-4]})
    lo, hi = result["suggested_range"]
    assert 1e-4 < lo < result["steepest_lr"] < hi < 0.5
    assert result["script_lr_inside"] is False and "below it" in result["detail"]
    inside = lr_find_result({"trace": [{"lr": a, "loss": b} for a, b in zip(lrs, loss)], "script_lrs": [lo * 1.5]})
    assert inside["script_lr_inside"] is True


def test_progress_line_and_html_report_self_contained():
    from hplint.probe.html_report import render_html
    from hplint.probe.runner import progress_line

    assert progress_line({"steps": 3, "budget": 20, "targets": 4, "exercised": 1}, 12.4) == \
        "hplint probe: step 3/20, 1/4 targets exercised, 12 s left"
    assert "fast-forward, 7 steps" in progress_line({"fast_forward": True, "fast_steps": 7}, 3)
    report = {"script": "t.py", "device": "cpu", "status": "stopped", "steps": 3, "elapsed_s": 1.0,
              "grad_norms": [1.0, 2.0, 3.0], "losses": [0.7, 0.6, 0.5], "health": [],
              "findings": [{"code": "HPL001", "path": "t.py", "line": 4, "column": 5, "verdict": "confirmed",
                            "summary": "variance shift 2.50x <b>", "message": "m", "measurements": {}}]}
    page = render_html(report)
    assert "HPL001" in page and "variance shift 2.50x &lt;b&gt;" in page and "confirmed" in page
    assert "<svg" in page  # no matplotlib figure given: inline SVG lines
    assert "http://" not in page and "https://" not in page and "<link" not in page and "<script" not in page


def test_wait_ends_ranks_left_behind(tmp_path, monkeypatch):
    """torchrun: once one rank wrote its measurements (its probe ended, e.g. after
    a fast-forward), the others get RANK_GRACE_S, not the whole --timeout."""
    import subprocess
    import time

    from hplint.probe import runner

    monkeypatch.setattr(runner, "RANK_GRACE_S", 0.3)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "measurements-0.json").write_text("{}")
        start = time.monotonic()
        with pytest.raises(runner._RanksStopped):
            runner._wait(proc, 20.0, None, start, ranks_dir=tmp_path)
        assert time.monotonic() - start < 5
    finally:
        proc.kill()
        proc.wait()


def test_cli_rejects_overfit_with_lr_find(tmp_path, capsys):
    from hplint.probe.cli import run_probe_command

    script = tmp_path / "t.py"
    script.write_text("print(1)\n")
    for argv in (["--overfit-batch", "3", "--lr-find", "8"], ["--lr-find", "2"], ["--lr-range", "1", "0.1"]):
        with pytest.raises(SystemExit) as exc:
            run_probe_command(["probe", str(script), *argv])
        assert exc.value.code == 2
    assert "--overfit-batch and --lr-find" in capsys.readouterr().err
