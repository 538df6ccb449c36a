"""`hplint probe` end to end: real training scripts run briefly on CPU under the
instrumentation, with the real static analysis choosing what to confirm.

Each run starts a fresh Python with torch (seconds); they are marked `slow` but
stay in the default run.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import needs

needs.module("torch", "make venv installs the CPU build")

from hplint.cli import main
from hplint.probe.session import run_probe
from hplint.probe.targets import Target, enclosing_function, static_targets

SCRIPTS = Path(__file__).parent / "probe_scripts"
pytestmark = pytest.mark.slow


def probe(name: str, steps: int = 6, args=(), **kw):
    report = run_probe(SCRIPTS / name, args, steps=steps, device="cpu", timeout=kw.pop("timeout", 90),
                       progress=kw.pop("progress", False), **kw)
    report.pop("_texts", None)
    return report


def target_at(code: str, name: str, line: int, col: int = 1) -> Target:
    """A finding given by hand (for a clean twin the static rules rightly pass)."""
    path = str(SCRIPTS / name)
    return Target(code, path, line, col, line, shown=name, function=enclosing_function(path, line))


def only(report, code):
    found = [f for f in report["findings"] if f["code"] == code]
    assert len(found) == 1, report["findings"]
    return found[0]


def test_control_small_dropout_not_confirmed():
    report = probe("control_mlp.py")
    hpl001 = only(report, "HPL001")
    assert hpl001["verdict"] == "not confirmed"
    assert abs(hpl001["measurements"]["variance_shift"] - 1.0) < 0.05
    assert not [f for f in report["findings"] if f["code"] == "HPL002"]


def test_lstm_without_clipping_confirmed():
    report = probe("lstm_long.py", steps=4)
    hpl005 = only(report, "HPL005")
    assert hpl005["verdict"] == "confirmed"
    m = hpl005["measurements"]
    assert m["max"] > 5.0 and m["clipping_calls"] == 0 and m["steps"] == 4


def test_short_gru_not_confirmed():
    report = probe("lstm_clipped.py", steps=4)
    hpl005 = only(report, "HPL005")
    assert hpl005["verdict"] == "not confirmed"
    assert hpl005["measurements"]["max"] < 5.0


def test_final_evaluation_reached_by_fast_forward_and_clean_twin():
    """30 epochs, evaluation only at the end: past the 6-step budget the probe
    fast-forwards (one batch per loader pass) until the evaluation has run, then stops."""
    bad = probe("epochs_final_eval.py")
    hpl008 = only(bad, "HPL008")
    assert hpl008["verdict"] == "confirmed" and hpl008["measurements"]["during_fast_forward"]
    assert bad["status"] == "stopped" and bad["stop_reason"] == "exercised" and bad["steps"] == 6
    assert bad["fast_forward"]["steps"] >= 20  # the remaining epochs, one step each
    assert len(bad["grad_norms"]) == 6  # fast-forward steps are not measured
    assert not static_targets(SCRIPTS / "epochs_final_eval_clean.py")[0]
    assert not [t for t in static_targets(SCRIPTS / "eval_with_eval.py")[0] if t.code == "HPL008"]
    clean = probe("epochs_final_eval_clean.py", targets=[target_at("HPL008", "epochs_final_eval_clean.py", 14, 25)])
    verdict = only(clean, "HPL008")
    assert verdict["verdict"] == "not confirmed" and clean["stop_reason"] == "exercised"
    assert verdict["measurements"]["eval_mode_no_grad_forwards"] > 0


def test_validation_every_n_epochs_reached_by_fast_forward_and_clean_twin(capfd):
    bad = probe("epochs_validate_every.py", progress=True)  # as on a terminal
    assert re.search(r"hplint probe: .*\d+ s left", capfd.readouterr().err)
    hpl010 = only(bad, "HPL010")
    assert hpl010["verdict"] == "confirmed" and hpl010["measurements"]["during_fast_forward"]
    assert bad["stop_reason"] == "exercised" and not [f for f in bad["findings"] if f["verdict"] == "not exercised"]
    assert not static_targets(SCRIPTS / "epochs_validate_every_clean.py")[0]
    clean = probe("epochs_validate_every_clean.py",
                  targets=[target_at("HPL010", "epochs_validate_every_clean.py", 39, 45)])
    verdict = only(clean, "HPL010")
    assert verdict["verdict"] == "not confirmed" and verdict["measurements"]["eval_calls"] >= 1


def test_batch_size_of_the_step_with_accumulation_and_diagnostic_pass():
    """DataLoader batch 4096, accumulated over 8 micro-batches of 512, plus a
    discarded diagnostic pass on 128 samples: the step's batch is 4096."""
    big = only(probe("accum_big_batch.py", steps=4), "HPL006")
    m = big["measurements"]
    assert big["verdict"] == "confirmed", big["summary"]
    assert m["batch_size"] == 4096 and m["step_batches"] == [4096] * 4
    assert m["b_simple"] < 4096 / 4 and len(m["b_simple_range"]) == 2
    assert "accumulated over 8 backward passes" in big["summary"]
    noisy = only(probe("accum_noisy.py", steps=4), "HPL006")
    assert noisy["verdict"] == "not confirmed" and noisy["measurements"]["batch_size"] == 4096
    assert noisy["measurements"]["b_simple"] > 4096 / 4


def test_batchnorm_batch_per_layer_and_overfit_one_batch():
    small = only(probe("bn_small_batch.py", steps=4), "HPL009")
    assert small["verdict"] == "confirmed" and small["measurements"]["min_batch_size"] == 4
    assert small["measurements"]["batchnorms"][0]["site"] == "bn_small_batch.py:20"
    # The twin: the same script with --batch-size 64, trained on one fixed batch.
    twin = probe("bn_small_batch.py", args=["--batch-size", "64"], overfit_batch=40)
    assert only(twin, "HPL009")["verdict"] == "not confirmed"
    overfit = twin["overfit"]
    assert overfit["passed"] is True and overfit["final"] < 0.1 * overfit["initial"], overfit
    assert twin["steps"] == 40 and len(overfit["losses"]) == 40


def test_lightning_trainer_steps_are_measured_after_the_closure():
    """Lightning's Trainer calls optimizer.step(closure): gradients exist only once
    the closure ran. The static HPL005 reports the `fit` of a Trainer without
    gradient_clip_val (automatic optimisation), and the probe confirms it."""
    needs.module("lightning", "the dev extra installs it: pip install -e '.[dev]'")
    assert [t.code for t in static_targets(SCRIPTS / "lightning_lstm.py")[0]] == ["HPL005"]
    report = probe("lightning_lstm.py", steps=4)
    assert report["status"] == "stopped" and report["steps"] == 4, report.get("output_tail")
    assert len(report["grad_norms"]) == 4 and all(isinstance(x, float) for x in report["losses"])
    assert report["step_batches"] == [8] * 4
    assert only(report, "HPL005")["verdict"] == "confirmed"


def test_accelerate_loop_measures_the_real_step_of_the_whole_accumulated_batch():
    """Accelerator().prepare(...) wraps the optimizer in an AcceleratedOptimizer that
    steps the SGD inside only on the last of 2 micro-batches (accelerator.accumulate):
    one measured step per effective batch of 16, gradients read before clipping."""
    needs.module("accelerate", "the dev extra installs it: pip install -e '.[dev]'")
    bad = probe("accelerate_gru.py", steps=4)
    assert bad["status"] == "stopped" and bad["steps"] == 4, bad.get("output_tail")
    assert bad["step_batches"] == [16] * 4 and len(bad["grad_norms"]) == 4
    hpl005 = only(bad, "HPL005")  # the static rule finds accelerator.backward ... optimizer.step()
    assert hpl005["verdict"] == "confirmed" and hpl005["measurements"]["clipping_calls"] == 0
    assert not static_targets(SCRIPTS / "accelerate_gru_clipped.py")[0]
    clean = probe("accelerate_gru_clipped.py", steps=4, targets=[target_at("HPL005", "accelerate_gru_clipped.py", 40)])
    m = only(clean, "HPL005")["measurements"]
    assert only(clean, "HPL005")["verdict"] == "not confirmed" and clean["step_batches"] == [16] * 4
    assert m["clipping_calls"] == 4 and m["max"] > 5.0 and m["max_after_clipping"] <= 1.0 + 1e-4


def test_hf_trainer_max_grad_norm_zero_confirmed_and_default_clipping_not():
    """transformers.Trainer with max_grad_norm=0 still calls clip_grad_norm_(params, inf)
    to log the norm: a measurement, not clipping. model(**batch) passes the batch
    by keyword; 2 micro-batches of 8 per step. The static rule reports the Trainer
    construction; the clean twin, which it rightly passes, gets the finding by hand."""
    needs.module("transformers", "the dev extra installs it: pip install -e '.[dev]'")
    assert not static_targets(SCRIPTS / "hf_trainer_lstm_clipped.py")[0]
    bad = probe("hf_trainer_lstm.py", steps=4)
    assert bad["status"] == "stopped" and bad["steps"] == 4, bad.get("output_tail")
    assert bad["step_batches"] == [16] * 4
    hpl005 = only(bad, "HPL005")
    assert hpl005["line"] == 46 and hpl005["verdict"] == "confirmed", hpl005
    assert hpl005["measurements"]["clipping_calls"] == 0
    clean = probe("hf_trainer_lstm_clipped.py", steps=4, targets=[target_at("HPL005", "hf_trainer_lstm_clipped.py", 15)])
    m = only(clean, "HPL005")["measurements"]
    assert only(clean, "HPL005")["verdict"] == "not confirmed" and m["clipping_calls"] == 4
    assert m["max"] > 5.0 and m["max_after_clipping"] <= 1.0 + 1e-4


def test_gradient_norm_is_measured_before_clipping():
    report = probe("lstm_clip_tight.py", steps=4, targets=[target_at("HPL005", "lstm_clip_tight.py", 30)])
    m = only(report, "HPL005")["measurements"]
    assert m["clipping_calls"] == 4 and m["before_clipping"]
    assert m["max"] > 5.0 and m["max_after_clipping"] <= 1.0 + 1e-4


def test_crash_reports_traceback(capsys):
    code = main(["probe", str(SCRIPTS / "crash.py"), "--steps", "3", "--device", "cpu", "--no-save"])
    out = capsys.readouterr().out
    assert code == 1
    assert "crashed" in out and "RuntimeError" in out and "crash.py" in out
    # It crashed before any step: say what was asked for and what was not measured,
    # never "unknown device" or "ok" about values nobody saw.
    assert "on cpu (requested; no model was seen on it)" in out and "after 0 optimizer steps" in out
    assert "skipped  non-finite: not measured" in out and "ok       non-finite" not in out


def test_no_optimizer(capsys):
    code = main(["probe", str(SCRIPTS / "no_optimizer.py"), "--device", "cpu", "--no-save",
                 "--output-format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["status"] == "no-optimizer"
    assert "never built" in report["error"]


def test_missing_data(capsys):
    code = main(["probe", str(SCRIPTS / "missing_data.py"), "--device", "cpu", "--no-save"])
    out = capsys.readouterr().out
    assert code == 1
    assert "needs data it cannot find" in out and "FileNotFoundError" in out


def test_timeout_kills_the_script(capsys):
    code = main(["probe", str(SCRIPTS / "forever.py"), "--timeout", "6", "--device", "cpu", "--no-save",
                 "--output-format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["status"] == "timeout"
    assert "--timeout 6" in report["error"]
    # The script ran, and when the probe returns its whole process group is gone.
    m = re.search(r"starting pid=(\d+) pgid=(\d+)", report["output_tail"])
    assert m, report["output_tail"]
    with pytest.raises(ProcessLookupError):
        os.killpg(int(m.group(2)), 0)
    with pytest.raises(ProcessLookupError):
        os.kill(int(m.group(1)), 0)


def test_torchrun_gloo_two_ranks():
    report = probe("ddp_gloo.py", steps=4, nproc=2, timeout=120)
    assert report["status"] == "stopped", report.get("output_tail")
    assert report["ranks"] == 2 and report["steps"] == 4
    hpl001 = only(report, "HPL001")
    assert hpl001["verdict"] == "confirmed"
    assert hpl001["measurements"]["ranks"] == 2 and hpl001["measurements"]["confirmed_on_ranks"] == 2


def test_dropout_bn_measured_saved_plotted_and_marked_in_check(tmp_path, capsys):
    needs.module("matplotlib", "the dev extra installs it: pip install -e '.[dev]'")
    script = tmp_path / "train.py"
    script.write_text((SCRIPTS / "dropout_bn_mlp.py").read_text())
    png, page = tmp_path / "probe.png", tmp_path / "report.html"
    code = main(["probe", str(script), "--steps", "6", "--device", "cpu", "--output-format", "json",
                 "--plot", str(png), "--report", str(page)])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 0 and Path(report["saved_to"]).is_file()
    # The measurements (dropout_bn_mlp.py: Dropout -> BatchNorm, a biased Linear -> BatchNorm).
    assert report["status"] == "stopped" and report["steps"] == 6 and report["device"] == "cpu"
    hpl001 = only(report, "HPL001")
    assert hpl001["verdict"] == "confirmed" and hpl001["line"] == 14
    # Dropout(0.5) on ReLU outputs: E[x^2]/(1-p) - E[x]^2 over Var[x] is about 2-3.
    assert 1.5 < hpl001["measurements"]["variance_shift"] < 4.0
    hpl002 = only(report, "HPL002")
    assert hpl002["verdict"] == "confirmed" and hpl002["line"] == 16
    assert hpl002["measurements"]["bias_grad_ratio"] < 1e-6
    assert hpl002["measurements"]["wasted_parameters"] == 32
    assert len(report["grad_norms"]) == 6 and all(0 < g < 10 for g in report["grad_norms"])
    assert report["step_batches"] == [64] * 6
    health = {h["check"]: h for h in report["health"]}
    assert health["initial-loss"]["status"] == "ok"  # ~ln(2) for a fresh 2-class model
    assert abs(health["initial-loss"]["value"]["loss"] - math.log(2)) < 0.35
    assert "\r" not in captured.err  # no progress line when stderr is not a terminal
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    html = page.read_text(encoding="utf-8")
    assert "HPL001" in html and "HPL002" in html and "variance shift" in html and "confirmed" in html
    assert "https://" not in html and "http://" not in html and "<link" not in html
    assert "data:image/png;base64," in html
    assert main(["check", str(script), "--output-format", "sarif"]) == 1
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    shift = next(r for r in results if r["ruleId"] == "HPL001")
    assert shift["properties"]["probeVerdict"] == "confirmed"
    assert "(confirmed by a probe run: variance shift" in shift["message"]["text"]
    assert Path(report["saved_to"]).parent == tmp_path / ".hplint" / "probe"
    assert main(["check", str(script), "--output-format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    notes = {f["code"]: f["probe"] for f in findings}
    assert notes["HPL001"].startswith("confirmed by probe: variance shift")
    assert notes["HPL002"].startswith("confirmed by probe: bias gradient")
    # Another text: the saved verdicts no longer apply.
    script.write_text(script.read_text() + "\n# edited\n")
    main(["check", str(script), "--output-format", "json"])
    assert all(f["probe"] is None for f in json.loads(capsys.readouterr().out)["findings"])


def test_demo_example_runs(capsys):
    demo = Path(__file__).resolve().parent.parent / "examples" / "probe_demo.py"
    code = main(["probe", str(demo), "--steps", "20", "--device", "cpu", "--no-save"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "HPL001 CONFIRMED" in out and "gradient norm per step" in out


def test_device_cuda_fails_clearly_without_cuda(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code = main(["probe", str(SCRIPTS / "no_optimizer.py"), "--device", "cuda", "--no-save"])
    out = capsys.readouterr().out
    assert code == 1 and "CUDA was requested but is not available" in out
    # Truthful about why, and that nothing ran on the CPU instead.
    assert "CPU-only build" in out or "sees no GPU" in out
    assert "nothing ran (use --device cpu or auto" in out


def test_lr_find_restores_the_script_and_the_cpu_fallback_says_so():
    """The range test first (model, optimizer, lr restored), then the probe steps
    and the fast-forward to the final evaluation; --device auto without CUDA
    reports the CPU the script fell back to, and why."""
    report = run_probe(SCRIPTS / "epochs_final_eval.py", steps=6, lr_find=24, device="auto", timeout=90,
                       progress=False)
    lr = report["lr_find"]
    assert lr["restored"] and lr["script_lr"] == 1e-3 and lr["script_lr_restored"]
    assert len(lr["trace"]) >= 10 and lr["suggested_range"][0] < lr["suggested_range"][1]
    assert "suggested lr range" in lr["detail"]
    assert report["steps"] == 6 and len(report["losses"]) == 6
    # Restored: the first probe step starts again from the untrained model's loss (~ln 2).
    assert abs(report["losses"][0] - lr["initial_loss"]) < 0.1
    assert only(report, "HPL008")["verdict"] == "confirmed"
    import torch

    if not torch.cuda.is_available():
        assert report["device"].startswith("cpu (no CUDA here: ") and not report["device_info"]["cuda_available"]


# -- the probe's own end: signals end the script and everything it started ----------------


ESCAPING_SCRIPT = """
import subprocess, sys, time
import torch
# A descendant in its own session: a process-group kill does not reach it.
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
open(sys.argv[1], "w").write(f"{child.pid}")
model = torch.nn.Linear(2, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in (b"Z", b"X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and uses PR_SET_CHILD_SUBREAPER")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_signals_to_the_probe_end_the_script_and_its_descendants(tmp_path, signum):
    script = tmp_path / "escape.py"
    script.write_text(ESCAPING_SCRIPT)
    pid_file = tmp_path / "pid"
    probe_proc = subprocess.Popen([sys.executable, "-m", "hplint", "probe", str(script), "--device", "cpu",
                                   "--no-save", "--timeout", "300", "--", str(pid_file)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (pid_file.exists() and pid_file.read_text()):
        assert probe_proc.poll() is None, probe_proc.communicate()
        assert time.monotonic() < deadline, "the script never started"
        time.sleep(0.05)
    escaped = int(pid_file.read_text())
    assert _alive(escaped)
    probe_proc.send_signal(signum)
    _, err = probe_proc.communicate(timeout=60)
    assert probe_proc.returncode == 128 + signum
    assert b"Traceback" not in err and b"stopped" in err
    deadline = time.monotonic() + 10
    while _alive(escaped) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(escaped), "a descendant that called setsid() outlived the probe"


def test_adam_eps_far_above_its_default_confirmed_and_clean_twin():
    """HPL007: eps = 10 turns Adam's step into lr * m / eps; the update-to-weight
    ratio per step falls far under the healthy ~1e-3. The twin is the same
    script with the default eps, probed for the same finding."""
    bad = probe("adam_eps_large.py", steps=6)
    hpl007 = only(bad, "HPL007")
    assert hpl007["verdict"] == "confirmed", hpl007
    assert hpl007["measurements"]["update_ratio_median"] < 1e-4
    twin = probe("adam_eps_large.py", steps=6, args=["--eps", "1e-8"],
                 targets=[target_at("HPL007", "adam_eps_large.py", 25)])
    healthy = only(twin, "HPL007")
    assert healthy["verdict"] == "not confirmed", healthy
    assert 1e-4 <= healthy["measurements"]["update_ratio_median"] <= 1e-2


def test_linear_random_search_confirmed_analytically_and_log_twin_clean():
    """HPL003/HPL004 are decided from the bounds (no measurement needed), on a
    real-shaped search loop; the log-scale twin has nothing to confirm."""
    bad = probe("random_search_linear.py", steps=4)
    lr, momentum = only(bad, "HPL003"), only(bad, "HPL004")
    assert lr["verdict"] == momentum["verdict"] == "confirmed"
    assert lr["measurements"]["share_top_decade"] == pytest.approx(0.9, abs=0.01)
    assert "analytic" in lr["summary"]
    assert not static_targets(SCRIPTS / "random_search_log.py")[0]
    twin = probe("random_search_log.py", steps=4)
    assert [f for f in twin["findings"] if f["verdict"] == "confirmed"] == []
