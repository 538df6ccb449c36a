"""Search spaces written as data (W&B sweeps, Hydra sweepers, NNI): HPL003 and
HPL004 with the Python rules' messages, positions exact to the value,
suppressions on the YAML line, log fixes, and every other YAML/JSON file left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hplint.cli import main
from hplint.config import Config
from hplint.engine import Linter

from helpers import dedent

WANDB = dedent("""
    program: train.py
    method: random
    metric: {name: val_loss, goal: minimize}
    parameters:
      learning_rate:
        distribution: uniform
        min: 0.0001
        max: 0.1
      lr_default:
        min: 0.00001
        max: 0.01
      lr_log:
        distribution: log_uniform_values
        min: 0.0001
        max: 0.1
      momentum:
        distribution: uniform
        min: 0.9
        max: 0.999
      weight_decay:
        distribution: uniform
        min: 0.0
        max: 0.1
      lr_grid:
        values: [0.001, 0.251, 0.501, 0.751, 1.001]
      lr_log_grid:
        values: [0.0001, 0.001, 0.01, 0.1]
      lr_narrow:
        distribution: uniform
        min: 0.01
        max: 0.05
      lr_quiet:  # hplint: disable=HPL003
        min: 0.00001
        max: 0.01
      optimizer:
        parameters:
          lr:
            distribution: "q_uniform"
            min: 0.0001
            max: 0.1
            q: 0.0001
""")


def lint_text(tmp_path: Path, name: str, text: str, config: Config = None):
    path = tmp_path / name
    path.write_text(text)
    return Linter(config or Config()).lint_file(path)


def places(result):
    return [(f.code, f.line, f.col) for f in result.findings]


def test_wandb_yaml(tmp_path: Path):
    result = lint_text(tmp_path, "sweep.yaml", WANDB)
    assert places(result) == [
        ("HPL003", 6, 19),  # the `uniform` value
        ("HPL003", 9, 3),  # min/max without a distribution: the parameter's key
        ("HPL004", 17, 19),
        ("HPL003", 25, 13),  # an evenly spaced grid
        ("HPL003", 38, 23),  # nested parameters
    ]
    first = result.findings[0]
    assert first.message.startswith("learning rate `learning_rate` is sampled on a linear scale from [1e-4, 0.1] "
                                    "(distribution: uniform): 90% of the samples land in the top decade [0.01, 0.1]")
    assert first.fix is not None and first.fix.edits[0].new_text == "log_uniform_values"
    assert result.findings[1].message.count("W&B samples uniformly") == 1
    assert "`optimizer.lr`" in result.findings[-1].message
    assert result.findings[3].fix is None  # a grid has no single log spelling


def test_json_sweep_message_is_the_python_message(tmp_path: Path):
    """Same analysis, same words: a W&B sweep as JSON and as a Python dict."""
    sweep = {"method": "bayes", "parameters": {"lr": {"distribution": "uniform", "min": 0.0001, "max": 0.1}}}
    data = lint_text(tmp_path, "sweep.json", json.dumps(sweep, indent=2)).findings
    python = lint_text(tmp_path, "sweep_def.py", f"sweep_config = {json.dumps(sweep)}\n").findings
    assert [f.code for f in data] == [f.code for f in python] == ["HPL003"]
    assert data[0].message == python[0].message
    assert data[0].severity == python[0].severity
    assert (data[0].line, data[0].col) == (5, 23)


def test_momentum_range_up_to_one_in_a_sweep_file(tmp_path: Path):
    """optuna-examples' U[0, 1] momentum, written as a W&B sweep: the same
    measure against beta 0.999 as in Python."""
    sweep = dedent("""
        method: random
        parameters:
          momentum:
            distribution: uniform
            min: 0.0
            max: 1.0
    """)
    (finding,) = lint_text(tmp_path, "sweep.yaml", sweep).findings
    assert (finding.code, finding.line) == ("HPL004", 4)
    assert "only 1% of the samples reach [0.99, 1]" in finding.message and "r ~ U[-3, 0]" in finding.message


def test_hydra_optuna_sweeper(tmp_path: Path):
    text = dedent("""
        defaults:
          - override hydra/sweeper: optuna
        hydra:
          sweeper:
            n_trials: 20
            params:
              optimizer.lr: interval(0.0001, 0.1)
              optimizer.lr_ok: tag(log, interval(0.0001, 0.1))
              model.beta1: "interval(0.9, 0.999)"
              optimizer.lr_grid: 0.001,0.334,0.667,1.0
              optimizer.lr_choice: choice(0.0001, 0.001, 0.01)
              optimizer.momentum: range(0.9, 0.999, 0.001)
        """)
    result = lint_text(tmp_path, "config.yaml", text)
    assert places(result) == [("HPL003", 7, 21), ("HPL004", 9, 20), ("HPL003", 10, 26), ("HPL004", 12, 27)]
    assert "(interval(0.0001, 0.1))" in result.findings[0].message
    assert "`tag(log, interval(low, high))`" in result.findings[0].message


def test_hydra_sweeper_group_file_and_search_space_form(tmp_path: Path):
    text = dedent("""
        _target_: hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper
        search_space:
          lr:
            type: float
            low: 0.00001
            high: 0.1
          lr_log:
            type: float
            low: 0.00001
            high: 0.1
            log: true
          lr_off:
            type: float
            low: 0.00001
            high: 0.1
            log: false
        """)
    result = lint_text(tmp_path, "optuna.yaml", text)
    assert places(result) == [("HPL003", 4, 11), ("HPL003", 13, 11)]  # `float`
    assert result.findings[0].fix.edits[0].new_text == "    log: true\n"
    assert result.findings[1].fix.edits[0].new_text == "true"


def test_nni_search_spaces(tmp_path: Path):
    space = dedent("""
        {
          "lr": {"_type": "uniform", "_value": [0.0001, 0.1]},
          "momentum": {"_type": "quniform", "_value": [0.9, 0.999, 0.001]},
          "dropout": {"_type": "uniform", "_value": [0.1, 0.5]},
          "lr2": {"_type": "loguniform", "_value": [0.0001, 0.1]},
          "lr3": {"_type": "choice", "_value": [0.25, 0.5, 0.75, 1.0, 0.0001]},
          "batch_size": {"_type": "choice", "_value": [16, 32, 64]}
        }
        """)
    result = lint_text(tmp_path, "search_space.json", space)
    assert places(result) == [("HPL003", 2, 19), ("HPL004", 3, 25), ("HPL003", 6, 40)]  # lr3: an even grid
    assert result.findings[0].fix.edits[0].new_text == "loguniform"
    config = dedent("""
        experimentName: mnist
        trialCommand: python3 mnist.py
        searchSpace:
          lr:
            _type: uniform
            _value: [0.0001, 0.1]
        tuner:
          name: TPE
        """)
    assert places(lint_text(tmp_path, "config.yml", config)) == [("HPL003", 5, 12)]


def test_other_yaml_and_json_files_are_not_linted_or_counted(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "package.json").write_text('{"name": "x", "parameters": 1}')
    (tmp_path / "ci.yml").write_text("on: push\njobs: {build: {runs-on: ubuntu}}\n")
    (tmp_path / "broken_data.yaml").write_text("a: [1, 2\n")  # not a sweep: never ours to report
    (tmp_path / "params.yaml").write_text("parameters:\n  lr: 0.1\n")  # no `method`: not a W&B sweep
    (tmp_path / "sweep.yaml").write_text(WANDB)
    assert main(["check", ".", "--output-format", "json", "--exit-zero"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {f["path"] for f in doc["findings"]} == {"sweep.yaml"} and doc["summary"]["files"] == 1


def test_broken_sweep_file_is_hpl000(tmp_path: Path):
    result = lint_text(tmp_path, "sweep.yaml", "method: random\nparameters:\n  lr: {min: 0.1\n")
    [f] = result.findings
    # The parser reports the end of the stream; positions stay inside the text: the last line's end.
    assert f.code == "HPL000" and f.message.startswith("invalid YAML") and (f.line, f.col) == (3, len("  lr: {min: 0.1") + 1)


def test_config_ignore_severity_and_options_apply(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(dedent("""
        [tool.hplint]
        ignore = ["HPL004"]
        [tool.hplint.severity]
        HPL003 = "error"
        [tool.hplint.rules.HPL003]
        extra-lr-names = ["alpha"]
        """))
    from hplint.config import load_config

    sweep = "method: grid\nparameters:\n  alpha: {min: 0.0001, max: 0.1}\n  momentum: {min: 0.9, max: 0.999}\n"
    path = tmp_path / "sweep.yaml"
    path.write_text(sweep)
    result = Linter(load_config(start=path)).lint_file(path)
    assert [(f.code, str(f.severity)) for f in result.findings] == [("HPL003", "error")]


def test_fix_and_diff(tmp_path: Path, capsys):
    path = tmp_path / "sweep.yaml"
    path.write_text(WANDB)
    assert main(["check", str(path), "--diff"]) == 1
    diff = capsys.readouterr().out
    assert "-    distribution: uniform\n+    distribution: log_uniform_values\n" in diff
    assert "   lr_default:\n+    distribution: log_uniform_values\n" in diff
    assert path.read_text() == WANDB
    main(["check", str(path), "--fix", "--exit-zero"])
    fixed = path.read_text()
    assert fixed.count("log_uniform_values") == 4 and 'distribution: "q_log_uniform_values"' in fixed
    assert places(Linter().lint_file(path)) == [("HPL004", 18, 19), ("HPL003", 26, 13)]
    hydra = tmp_path / "hydra.yaml"
    hydra.write_text("hydra:\n  sweeper:\n    params:\n      lr: 'interval(1e-5, 1e-1)'\n")
    main(["check", str(hydra), "--fix", "--exit-zero"])
    assert hydra.read_text() == "hydra:\n  sweeper:\n    params:\n      lr: 'tag(log, interval(1e-5, 1e-1))'\n"
    nni = tmp_path / "space.json"
    nni.write_text('{"lr": {"_type": "uniform", "_value": [1e-5, 1e-1]}}')
    main(["check", str(nni), "--fix", "--exit-zero"])
    assert nni.read_text() == '{"lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]}}'
    flow = tmp_path / "flow.json"
    flow.write_text('{"method": "random", "parameters": {"lr": {"min": 1e-5, "max": 1e-1}}}')
    main(["check", str(flow), "--fix", "--exit-zero"])
    assert json.loads(flow.read_text())["parameters"]["lr"] == {
        "distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1}
    capsys.readouterr()


@pytest.mark.parametrize("fmt", ["sarif", "github", "rdjson"])
def test_machine_formats_use_the_yaml_position(tmp_path: Path, capsys, monkeypatch, fmt):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sweep.yaml").write_text(WANDB)
    main(["check", "sweep.yaml", "--output-format", fmt, "--exit-zero"])
    out = capsys.readouterr().out
    assert ("line=6" in out) if fmt == "github" else ('"startLine": 6' in out or '"line": 6' in out)


def test_big_data_files_are_not_read_in_directory_walks(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    big = {"method": "random", "parameters": {"lr": {"min": 0.0001, "max": 0.1}}, "data": ["x" * 100] * 20000}
    (tmp_path / "annotations.json").write_text(json.dumps(big))
    (tmp_path / "broken.json").write_text('{"parameters": [1, 2,], "method": "POST"}')  # not a sweep shape
    main(["check", ".", "--output-format", "json", "--exit-zero"])
    assert json.loads(capsys.readouterr().out)["summary"]["files"] == 0
    main(["check", "annotations.json", "--output-format", "json", "--exit-zero"])  # named: always read
    assert [f["code"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["HPL003"]


def test_wandb_categorical_values(tmp_path: Path):
    text = "method: grid\nparameters:\n  lr:\n    distribution: categorical\n    values: [0.1, 0.4, 0.7, 1.0]\n"
    assert places(lint_text(tmp_path, "sweep.yaml", text)) == [("HPL003", 5, 13)]


# kubeflow/katib examples/v1beta1: Experiments whose feasibleSpace has no
# `distribution` (Katib samples uniformly) or says `uniform`.
KATIB = dedent("""
    apiVersion: kubeflow.org/v1beta1
    kind: Experiment
    metadata:
      name: simple-pbt
    spec:
      algorithm:
        algorithmName: pbt
      parameters:
        - name: lr
          parameterType: double
          feasibleSpace:
            min: "0.0001"
            max: "0.02"
        - name: --momentum
          parameterType: double
          feasibleSpace:
            min: "0.001"
            max: "1"
            distribution: uniform
        - name: learning_rate_log
          parameterType: double
          feasibleSpace:
            min: "0.0001"
            max: "0.1"
            distribution: logUniform
        - name: lr_narrow
          parameterType: double
          feasibleSpace:
            min: "0.01"
            max: "0.05"
        - name: lr_normal
          parameterType: double
          feasibleSpace:
            min: "0.0001"
            max: "0.1"
            distribution: normal
        - name: optimizer
          parameterType: categorical
          feasibleSpace:
            list: ["sgd", "adam"]
    """)


def test_katib_experiments(tmp_path: Path):
    result = lint_text(tmp_path, "random.yaml", KATIB)
    assert places(result) == [("HPL003", 9, 13), ("HPL004", 19, 23)]
    assert "which Katib samples uniformly" in result.findings[0].message
    # unsafe: Katib controllers before v0.17 refuse `distribution`; β gets no fix (1-β needs the log)
    assert result.findings[0].fix.safety.value == "unsafe" and result.findings[1].fix is None
    path = tmp_path / "random.yaml"
    assert main(["check", str(path), "--fix", "--unsafe-fixes", "--exit-zero"]) == 0
    fixed = path.read_text()
    assert 'feasibleSpace:\n        distribution: logUniform\n        min: "0.0001"' in fixed
    assert fixed.count("distribution: logUniform") == 2 and "distribution: uniform" in fixed
    assert places(lint_text(tmp_path, "random.yaml", fixed)) == [("HPL004", 20, 23)]
    # a Kubernetes manifest that is not a Katib Experiment is not a sweep file
    other = KATIB.replace("kind: Experiment", "kind: Deployment")
    assert lint_text(tmp_path, "deploy.yaml", other).findings == []


def test_katib_uniform_distribution_gets_log_uniform(tmp_path: Path):
    text = KATIB.replace('max: "0.02"', 'max: "0.02"\n        distribution: uniform')
    result = lint_text(tmp_path, "tpe.yaml", text)
    (lr,) = [f for f in result.findings if f.code == "HPL003"]
    assert (lr.line, lr.fix.edits[0].new_text, lr.fix.safety.value) == (14, "logUniform", "unsafe")


def test_data_files_are_decoded_by_their_byte_order_mark(tmp_path: Path, capsys, monkeypatch):
    # A conda environment.yml saved by Windows tools is UTF-16 with a BOM: no
    # finding (it is no sweep), where it used to be an HPL000 "cannot decode".
    monkeypatch.chdir(tmp_path)
    (tmp_path / "environment.yml").write_bytes("name: env\ndependencies:\n  - numpy\n".encode("utf-16"))
    (tmp_path / "undecodable.yaml").write_bytes(b"name: \xff\xfe\xfa\n")  # no BOM, not UTF-8, no sweep
    sweep = tmp_path / "sweep.yaml"
    sweep.write_bytes(WANDB.encode("utf-16"))
    assert main(["check", ".", "--output-format", "json", "--exit-zero"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {(f["path"], f["code"]) for f in doc["findings"]} == {("sweep.yaml", "HPL003"), ("sweep.yaml", "HPL004")}
    # Fixed in place, the file keeps its encoding and its mark.
    main(["check", "sweep.yaml", "--fix", "--exit-zero"])
    data = sweep.read_bytes()
    assert data.startswith(b"\xff\xfe") and "log_uniform_values" in data.decode("utf-16")


def test_an_undecodable_sweep_file_is_hpl000(tmp_path: Path):
    path = tmp_path / "sweep.yaml"
    path.write_bytes(b"method: random\nparameters:\n  lr: {min: 0.1, max: \xff}\n")
    [f] = Linter().lint_file(path).findings
    assert f.code == "HPL000" and "cannot decode" in f.message and f.line == 3
