"""HPL007 adam-non-default-hyperparameters."""

import pytest

from hplint.findings import Severity

from helpers import apply_edits, dedent, expected_lines, lines_of, lint_code, lint_files

POSITIVE = {
    "betas_literal": """
        import torch
        opt = torch.optim.Adam(params, lr=3e-4, betas=(0.8, 0.99))  # <- HPL007
    """,
    "adamw_from_import_eps": """
        from torch.optim import AdamW
        opt = AdamW(params, eps=1e-6)  # <- HPL007
    """,
    "positional_betas": """
        import torch.optim as optim
        opt = optim.Adam(params, 1e-3, [0.5, 0.999])  # <- HPL007
    """,
    "argparse_default": """
        import argparse, torch
        p = argparse.ArgumentParser()
        p.add_argument("--beta1", type=float, default=0.5)
        args = p.parse_args()
        opt = torch.optim.Adam(params, betas=(args.beta1, 0.999))  # <- HPL007
    """,
    "module_constant_and_config_dict": """
        import torch
        EPS = 1e-5
        CONFIG = {"betas": (0.9, 0.95)}
        a = torch.optim.NAdam(params, eps=EPS)  # <- HPL007
        b = torch.optim.RAdam(params, betas=CONFIG["betas"])  # <- HPL007
    """,
    "adamax_aliased": """
        from torch.optim import Adamax as Opt
        opt = Opt(params, betas=(0.95, 0.999))  # <- HPL007
    """,
    "transformers_adamw_own_default": """
        from transformers import AdamW
        opt = AdamW(params, eps=1e-8)  # <- HPL007
    """,
    "constant_from_project_module": """
        import torch
        from settings import ADAM_BETAS
        opt = torch.optim.Adam(params, betas=ADAM_BETAS)  # <- HPL007
    """,
}

NEGATIVE = {
    "defaults_explicit": """
        import torch
        opt = torch.optim.Adam(params, betas=(0.9, 0.999), eps=1e-8)
    """,
    "defaults_written_differently": """
        import torch
        opt = torch.optim.AdamW(params, betas=[0.9, .999], eps=1e-08)
        opt2 = torch.optim.Adam(params, eps=10 ** -8)
    """,
    "no_betas": """
        import torch
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-2)
    """,
    "sgd_momentum": """
        import torch
        opt = torch.optim.SGD(params, lr=0.1, momentum=0.8)
    """,
    "unknown_value": """
        import torch
        def make(params, betas):
            return torch.optim.Adam(params, betas=betas)
    """,
    "transformers_default_eps": """
        from transformers import AdamW
        opt = AdamW(params, eps=1e-6)
    """,
    "diffusion_betas_not_adam": """
        import torch
        betas = torch.linspace(1e-4, 0.02, 1000)
        sched = make_schedule(betas=(0.5, 0.6))
    """,
    "other_library_adam": """
        from keras.optimizers import Adam
        opt = Adam(beta_1=0.5)
    """,
}


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_flags(tmp_path, name):
    code = POSITIVE[name]
    files = {"snippet.py": code, "settings.py": "ADAM_BETAS = (0.9, 0.95)\n"}
    findings = lint_files(tmp_path, files, "snippet.py", select=["HPL007"])
    assert lines_of(findings, "HPL007") == expected_lines(code, "HPL007"), findings


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_clean(tmp_path, name):
    assert lint_code(tmp_path, NEGATIVE[name], select=["HPL007"]) == []


def test_message_names_values_and_variable(tmp_path):
    [finding] = lint_code(tmp_path, POSITIVE["argparse_default"], select=["HPL007"])
    assert "betas=(0.5, 0.999)" in finding.message
    assert "`(args.beta1, 0.999)`" not in finding.message  # a tuple literal is shown by value
    assert finding.severity is Severity.INFO
    assert "accepted-betas" in finding.message


def test_extreme_eps_is_a_warning(tmp_path):
    code = """
        import torch
        a = torch.optim.Adam(params, eps=1e-10)
        b = torch.optim.Adam(params, eps=0.1)
        c = torch.optim.Adam(params, eps=1e-6)
    """
    findings = lint_code(tmp_path, code, select=["HPL007"])
    assert [(f.line, f.severity) for f in findings] == [
        (2, Severity.WARNING), (3, Severity.WARNING), (4, Severity.INFO)]


def test_accepted_values_from_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[tool.hplint.rules.HPL007]\naccepted-betas = [[0.5, 0.999]]\naccepted-eps = [1e-6]\n")
    from hplint.config import load_config
    config = load_config(start=tmp_path)
    code = """
        import torch
        a = torch.optim.Adam(params, betas=(0.5, 0.999), eps=1e-6)
        b = torch.optim.Adam(params, betas=(0.5, 0.99))  # <- HPL007
    """
    findings = lint_files(tmp_path, {"snippet.py": code}, "snippet.py", config=config)
    assert lines_of(findings, "HPL007") == [3]


def test_unsafe_fix_removes_keyword(tmp_path):
    code = dedent(POSITIVE["betas_literal"])
    [finding] = lint_code(tmp_path, code, select=["HPL007"])
    assert finding.fix.safety.value == "unsafe"
    fixed = apply_edits(code, finding.fix.edits)
    assert "opt = torch.optim.Adam(params, lr=3e-4)  # <- HPL007" in fixed
    assert lint_code(tmp_path, fixed, select=["HPL007"]) == []


def test_positional_values_have_no_fix(tmp_path):
    [finding] = lint_code(tmp_path, POSITIVE["positional_betas"], select=["HPL007"])
    assert finding.fix is None
