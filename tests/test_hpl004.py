"""HPL004 momentum-linear-sampling: momentum / Adam β / rho near 1 searched
uniformly on a linear scale; 1 - 10**r spellings and noise schedules stay clean."""

from __future__ import annotations

import pytest

from hplint.analysis.hyperparams import is_momentum
from hplint.analysis.search_space import near_one_shares
from hplint.analysis.source import SourceError, parse_source
from hplint.config import Config
from hplint.engine import Linter
from hplint.findings import FixSafety

from helpers import apply_edits, expected_lines, lines_of, lint_code, lint_files

RULE = "HPL004"

POSITIVE = {
    # Epistimio/orion's tutorials: momentum "uniform(0, 0.9)", one decade of 1-β.
    "orion_momentum_prior": """
        from orion.client import build_experiment

        build_experiment("e", space={"momentum": "uniform(0, 0.9)"})  # <- HPL004
    """,
    # Katib's Python SDK searches uniformly.
    "katib_search_double_momentum": """
        import kubeflow.katib as katib

        parameters = {"momentum": katib.search.double(min=0.5, max=0.999)}  # <- HPL004
    """,
    "bayes_opt_pbounds": """
        from bayes_opt import BayesianOptimization

        optimizer = BayesianOptimization(f=evaluate, pbounds={"momentum": (0.5, 0.999)})  # <- HPL004
    """,
    # awslabs/syne-tune: SGD momentum and Adam's beta1 searched on U[0, 0.99].
    "syne_tune_momentum": """
        import torch
        from syne_tune.config_space import uniform, loguniform

        _config_space = {
            "lr": loguniform(1e-6, 1e-3),
            "momentum": uniform(0, 0.99),  # <- HPL004
        }

        def make(config, model):
            return torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=config["momentum"])
    """,
    # A scalar torch draw is still a draw (the counterpart of the batch noise below).
    "scalar_torch_draw": """
        import torch

        def sample_config(model):
            momentum = 0.5 + 0.49 * torch.rand(1).item()  # <- HPL004
            return torch.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
    """,
    "optuna_momentum": """
        def objective(trial):
            momentum = trial.suggest_float("momentum", 0.9, 0.999)  # <- HPL004
            return momentum
    """,
    "optuna_beta2_into_adam_betas": """
        import torch

        def objective(trial, model):
            b2 = trial.suggest_uniform("b2", 0.99, 0.9999)  # <- HPL004
            return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, b2))
    """,
    "ray_and_hyperopt": """
        from hyperopt import hp
        from ray import tune

        RAY = {"momentum": tune.uniform(0.5, 0.999)}  # <- HPL004
        HYPEROPT = {"beta1": hp.uniform("beta1", 0.8, 0.99)}  # <- HPL004
    """,
    "skopt_scipy_configspace": """
        import ConfigSpace as CS
        from scipy.stats import uniform
        from skopt.space import Real

        dims = [Real(0.9, 0.9999, name="rho")]  # <- HPL004
        dists = {"module__optimizer__momentum": uniform(0.9, 0.099)}  # <- HPL004
        hp = CS.UniformFloatHyperparameter("adam_beta2", 0.99, 0.9999)  # <- HPL004
    """,
    "wandb_sweep": """
        sweep = {"parameters": {
            "momentum": {"distribution": "uniform", "min": 0.9, "max": 0.999},  # <- HPL004
            "beta_2": {"distribution": "q_uniform", "min": 0.9, "max": 0.999, "q": 0.001},  # <- HPL004
            "sgd_momentum": {"min": 0.5, "max": 0.99},  # <- HPL004
        }}
    """,
    # nni's automlbenchmark run_mlp.py: momentum and beta_1 spelled the NNI way in Python.
    "nni_search_space_dict": """
        space = {
            "momentum": {"_type": "uniform", "_value": [0, 1]},  # <- HPL004
            "beta_1": {"_type": "uniform", "_value": [0.8, 0.999]},  # <- HPL004
        }
    """,
    "random_into_betas_tuple": """
        import random
        import torch

        def make(model):
            b1 = random.uniform(0.9, 0.999)  # <- HPL004
            return torch.optim.AdamW(model.parameters(), betas=(b1, 0.999))
    """,
    "one_minus_linear_sample": """
        import random
        import numpy as np

        beta = 1 - random.uniform(0.001, 0.1)  # <- HPL004
        ema_decay = 0.9999 - np.random.rand() * 0.0099  # <- HPL004
    """,
    "grid_and_keyword": """
        import numpy as np
        import torch

        def sweep(model):
            for momentum in np.linspace(0.5, 0.99, 5):  # <- HPL004
                torch.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
            torch.optim.RMSprop(model.parameters(), alpha=0.9, momentum=np.random.uniform(0.9, 0.999))  # <- HPL004
    """,
    # DomainBed's registry: the EMA decay, named `ema`, drawn from a NumPy generator.
    "ema_decay_named_ema": """
        import numpy as np

        def random_hparams(seed):
            r = np.random.RandomState(seed)
            return {"lr": 10 ** r.uniform(-5, -3), "ema": r.uniform(0.90, 0.99)}  # <- HPL004
    """,
    # DomainBed's hparams_registry.py as written: each sampler is a lambda handed to
    # a registry function with its name, and called there with a generator.
    "registry_of_named_samplers": """
        import numpy as np

        def _hparams(algorithm, seed):
            hparams = {}

            def _hparam(name, default_val, random_val_fn):
                random_state = np.random.RandomState(seed)
                hparams[name] = (default_val, random_val_fn(random_state))

            _hparam('lr', 1e-3, lambda r: 10**r.uniform(-5, -3.5))
            _hparam('beta1', 0.5, lambda r: r.choice([0., 0.5]))
            if algorithm == "Fishr":
                _hparam('ema', 0.95, lambda r: r.uniform(0.90, 0.99))  # <- HPL004
                _hparam(name='momentum', default_val=0.9, random_val_fn=lambda r: r.uniform(0.5, 0.99))  # <- HPL004
            return hparams
    """,
    # A lambda handed over by keyword with no name beside it: the keyword names it.
    "sampler_by_keyword": """
        import numpy as np

        schedule.add(momentum=lambda: np.random.uniform(0.9, 0.999))  # <- HPL004
    """,
    # optuna-examples tfkeras_integration.py: a range that reaches 1 spans
    # infinitely many decades of 1-β (the ratio test would divide by zero).
    "upper_bound_one": """
        import random

        def objective(trial):
            momentum = trial.suggest_float("momentum", 0.0, 1.0)  # <- HPL004
            ema_decay = random.uniform(0.9, 1.0)  # <- HPL004
            return momentum, ema_decay
    """,
    # ConnorBaker/BSRT: Syne Tune domains as dataclass field defaults, built by functools.partial.
    "syne_tune_partial_as_field_default": """
        from dataclasses import dataclass, field
        from functools import partial
        from syne_tune.config_space import Float, uniform
        @dataclass
        class OneCycleSpace:
            max_momentum: Float = field(default_factory=partial(uniform, 0.85, 1.0))  # <- HPL004
    """,
}

NEGATIVE = {
    "syne_tune_partial_log_scaled_and_other_names": """
        from dataclasses import dataclass, field
        from functools import partial
        from syne_tune.config_space import Float, uniform
        @dataclass
        class Space:
            weight_decay: Float = field(default_factory=partial(uniform, 0.9, 0.999))
            momentum: Float = field(default_factory=partial(uniform, 0.9, 0.95))
            dropout = partial(uniform, 0.85, 1.0)
    """,
    # syne-tune's pd1 blackbox: `one_minus_momentum` on a log scale is the right spelling.
    "syne_tune_one_minus_momentum": """
        from syne_tune.config_space import loguniform, uniform

        _config_space = {"one_minus_momentum": loguniform(1e-3, 1.0), "momentum": uniform(0.01, 0.1)}
    """,
    # The same registry shapes that are not a search: a lambda the registry never
    # calls with a generator, and a momentum drawn on a log scale of 1-β.
    "registry_without_a_generator": """
        def register(name, default, fn):
            return {name: fn(default)}

        register('ema', 0.95, lambda r: r.uniform(0.90, 0.99))
    """,
    "registry_log_scale": """
        import numpy as np

        def _hparam(name, default_val, random_val_fn):
            return random_val_fn(np.random.RandomState(0))

        _hparam('ema', 0.95, lambda r: 1 - 10 ** r.uniform(-2, -1))
    """,
    "log_spellings": """
        import random
        import numpy as np
        from ray import tune

        def objective(trial):
            m = 1 - trial.suggest_float("one_minus_momentum", 1e-3, 1e-1, log=True)
            b2 = 1 - 10 ** random.uniform(-4, -2)
            b1 = 1 - np.power(10, np.random.uniform(-2, -1))
            return m, b2, b1

        SPACE = {"beta2": tune.sample_from(lambda _: 1 - 10 ** np.random.uniform(-4, -2))}
    """,
    "narrow_ranges": """
        def objective(trial):
            a = trial.suggest_float("momentum", 0.85, 0.95)
            b = trial.suggest_float("beta2", 0.99, 0.995)
            return a, b
    """,
    "batchnorm_momentum_far_from_one": """
        from ray import tune

        SPACE = {"bn_momentum": tune.uniform(0.01, 0.1)}
    """,
    "diffusion_noise_schedule": """
        import torch

        class DDPM:
            def __init__(self, beta_start=1e-4, beta_end=0.02, timesteps=1000):
                self.betas = torch.linspace(beta_start, beta_end, timesteps)
                betas = torch.linspace(0.9, 0.9999, 1000)
                self.alphas = 1.0 - self.betas

        def objective(trial):
            beta_start = trial.suggest_float("beta_start", 1e-5, 1e-3)
            beta_end = trial.suggest_float("beta_end", 0.9, 0.999)
            return beta_start, beta_end
    """,
    "other_hyperparameters": """
        def objective(trial):
            wd = trial.suggest_float("weight_decay", 0.9, 0.999)
            p = trial.suggest_float("dropout", 0.5, 0.99)
            gamma = trial.suggest_float("gamma", 0.9, 0.999)
            return wd, p, gamma
    """,
    "unknown_bounds": """
        def objective(trial, args):
            return trial.suggest_float("momentum", args.m_lo, args.m_hi)
    """,
    "log_scale_on_beta_itself": """
        from ray import tune

        SPACE = {"momentum": tune.loguniform(0.5, 0.999)}
    """,    # DRAGAN's perturbation (LynnHo/DCGAN-LSGAN-WGAN-GP-DRAGAN-Pytorch): noise
    # shaped like a batch is named `beta` but is not a hyperparameter draw.
    "noise_shaped_like_a_batch": """
        import torch

        def sample_dragan(real):
            beta = torch.rand_like(real)
            return real + 0.5 * real.std() * beta

        def mix(real, fake):
            momentum = torch.rand([real.size(0), 1, 1, 1])
            beta = torch.rand(8, device=real.device)
            return real + momentum * (fake - real) + beta

        def gradient_penalty(real, batch_size):
            momentum = torch.FloatTensor(batch_size, 1, 1, 1).uniform_(0, 1)
            beta = torch.rand(batch_size, 1)
            return momentum * real + beta
    """,
    # Shake-shake (Auto-PyTorch): per-step mixing weights drawn in, or for, a forward.
    "shake_shake_coefficients_of_the_forward": """
        import torch
        from torch import nn

        def shake_get_alpha_beta(is_training):
            if not is_training:
                return torch.tensor([0.5]), torch.tensor([0.5])
            return torch.rand(1), torch.rand(1)

        def get_beta():
            beta = torch.rand(1)
            return beta

        class ShakeFunction(torch.autograd.Function):
            @staticmethod
            def backward(ctx, grad):
                beta = torch.rand(1)
                return beta * grad, (1 - beta) * grad

        def shake_drop(is_training, is_cuda):  # another file's forward calls it
            beta = torch.rand(1)
            if is_cuda:
                beta = beta.cuda()
            return beta

        class ShakeBlock(nn.Module):
            def forward(self, x):
                alpha, beta = shake_get_alpha_beta(self.training)
                momentum = torch.rand(1)
                return alpha * x + beta * get_beta() + momentum
    """,
}


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_flags_linear_momentum_sampling(tmp_path, name):
    code = POSITIVE[name]
    findings = lint_code(tmp_path, code, select=[RULE])
    assert lines_of(findings, RULE) == expected_lines(code, RULE), [f.message for f in findings]


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_log_scale_schedules_and_other_names_are_clean(tmp_path, name):
    findings = lint_code(tmp_path, NEGATIVE[name], select=[RULE])
    assert findings == [], [(f.line, f.message) for f in findings]


def test_exact_position_and_message(tmp_path):
    (f,) = lint_code(tmp_path, POSITIVE["optuna_momentum"], select=[RULE])
    assert (f.span.start_line, f.span.start_col, f.span.end_line, f.span.end_col) == (2, 16, 2, 59)
    assert "`momentum`" in f.message and "[0.9, 0.999]" in f.message
    # (0.999 - 0.99) / (0.999 - 0.9) = 9%; (0.99 - 0.9) / 0.099 = 91% have 1-β in [0.01, 0.1].
    assert "only 9% of the samples reach [0.99, 0.999]" in f.message
    assert "91% have 1-β in [0.01, 0.1]" in f.message
    assert "50%" in f.message and "r ~ U[-3, -1]" in f.message


def test_range_up_to_one_is_measured_against_beta_0999(tmp_path):
    momentum, ema = lint_code(tmp_path, POSITIVE["upper_bound_one"], select=[RULE])
    assert "[0, 1]" in momentum.message
    assert "only 1% of the samples reach [0.99, 1]" in momentum.message
    assert "90% have 1-β in [0.1, 1]" in momentum.message and "r ~ U[-3, 0]" in momentum.message
    assert "only 10% of the samples reach [0.99, 1]" in ema.message and "r ~ U[-3, -1]" in ema.message
    # 1 - 10**r cannot reach β = 1, so the rewrite would change the range: no fix.
    assert momentum.fix is None and ema.fix is None


def test_betas_binding_is_named_by_index(tmp_path):
    (f,) = lint_code(tmp_path, POSITIVE["random_into_betas_tuple"], select=[RULE])
    assert (f.line, f.col) == (5, 10)
    assert "`betas[0]`" in f.message
    assert [r.span.start_line for r in f.related] == [6]


def test_linear_map_is_followed(tmp_path):
    findings = lint_code(tmp_path, POSITIVE["one_minus_linear_sample"], select=[RULE])
    beta, ema = findings
    assert "[0.9, 0.999]" in beta.message and "mapped linearly" in beta.message
    assert "`ema_decay`" in ema.message and "[0.99, 0.9999]" in ema.message
    assert beta.fix is None  # the rewrite would have to replace the whole expression


def test_shares_are_computed_from_the_bounds():
    near, far = near_one_shares(0.9, 0.999)
    assert near == pytest.approx(0.009 / 0.099)
    assert far == pytest.approx(0.09 / 0.099)


def test_bounds_from_a_constants_module(tmp_path):
    files = {
        "hparams.py": """
            MOMENTUM_RANGE = (0.9, 0.999)
            BETA2_LOW = 0.99
        """,
        "search.py": """
            from ray import tune
            from hparams import BETA2_LOW, MOMENTUM_RANGE

            SPACE = {
                "momentum": tune.uniform(MOMENTUM_RANGE[0], MOMENTUM_RANGE[1]),
                "beta2": tune.uniform(BETA2_LOW, 1 - 1e-4),
            }
        """,
    }
    findings = lint_files(tmp_path, files, "search.py", select=[RULE])
    assert [(f.line, f.col) for f in findings] == [(5, 17), (6, 14)]
    assert "[0.99, 0.9999]" in findings[1].message


def test_extra_momentum_names_and_min_decades(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("def f(trial):\n    return trial.suggest_float('gamma', 0.9, 0.9999)\n")
    assert Linter(Config(select=(RULE,))).lint_file(path).findings == []
    extra = Config(select=(RULE,), options={RULE: {"extra-momentum-names": ["gamma"]}})
    assert len(Linter(extra).lint_file(path).findings) == 1
    strict = Config(select=(RULE,), options={RULE: {"extra-momentum-names": ["gamma"], "min-decades": 3.5}})
    assert Linter(strict).lint_file(path).findings == []


@pytest.mark.parametrize("name, expected", [
    ("momentum", True), ("beta1", True), ("beta2", True), ("betas", True), ("adam_beta1", True),
    ("adam-beta2", True), ("rho", True), ("sgd_momentum", True), ("ema_decay", True), ("optimizer__momentum", True),
    ("beta_start", False), ("beta_end", False), ("beta_min", False), ("noise_beta", False),
    # ends of a momentum's own cycle (OneCycleLR) are momenta; a schedule knob is not
    ("max_momentum", True), ("base_momentum", True), ("momentum_min", True),
    ("momentum_schedule", False), ("log_momentum", False),
    ("weight_decay", False), ("dropout", False), ("gamma", False), ("lr", False),
])
def test_momentum_vocabulary(name, expected):
    assert is_momentum(name) is expected


# ------------------------------------------------------------------ fixes

FIXES = [
    ('def f(trial):\n    return trial.suggest_float("momentum", 0.9, 0.999)\n',
     '1 - trial.suggest_float("momentum", 0.001, 0.1, log=True)'),
    ('def f(trial):\n    return trial.suggest_uniform("beta2", 0.99, 0.9999)\n',
     '1 - trial.suggest_float("beta2", 0.0001, 0.01, log=True)'),
    ('import random\nmomentum = random.uniform(0.9, 0.999)\n', '1 - 10 ** random.uniform(-3, -1)'),
    ('import numpy as np\nbeta2 = np.random.uniform(0.99, 0.9999)\n', '1 - 10 ** np.random.uniform(-4, -2)'),
]


@pytest.mark.parametrize("code, replacement", FIXES)
def test_unsafe_fix_is_valid_and_idempotent(tmp_path, code, replacement):
    path = tmp_path / "m.py"
    linter = Linter(Config(select=(RULE,)))
    (f,) = linter.lint_text(code, path).findings
    assert f.fix is not None and f.fix.safety is FixSafety.UNSAFE
    fixed = apply_edits(code, f.fix.edits)
    assert replacement in fixed, fixed
    assert not isinstance(parse_source(fixed), SourceError)
    assert linter.lint_text(fixed, path).findings == []  # nothing left, so a second run changes nothing


@pytest.mark.parametrize("code", [
    'from ray import tune\nSPACE = {"momentum": tune.uniform(0.9, 0.999)}\n',  # a Domain cannot be wrapped in 1 - x
    'import random\nmomentum = random.uniform(0.9, 0.995)\n',  # exponents are not whole numbers
    'def f(trial):\n    return trial.suggest_float("momentum", 0.9, 0.999, step=0.001)\n',
])
def test_no_fix_where_the_rewrite_is_not_direct(tmp_path, code):
    (f,) = Linter(Config(select=(RULE,))).lint_text(code, tmp_path / "m.py").findings
    assert f.fix is None


# animals-10 training/tuning.py: the bounds are a tuple of a config dict, read for
# the searched optimizer and splatted into the suggest call.
SPLATTED_BOUNDS = """
import optuna
import torch

SPACE = {
    "adam": {"lr": (1e-5, 1e-1), "beta1": (0.8, 0.999)},
    "nadam": {"lr": (1e-5, 1e-1), "beta1": BETA1_NADAM},
}


def objective(trial, model):
    name = trial.suggest_categorical("optimizer", ["adam", "nadam"])
    lr = trial.suggest_float("lr", *SPACE[name]["lr"], log=True)
    b1_range = SPACE[name]["beta1"]
    b1 = trial.suggest_uniform("beta1", *b1_range)  # <- HPL004
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=b1)
"""


def test_bounds_splatted_from_a_config_dict(tmp_path):
    code = SPLATTED_BOUNDS.replace("BETA1_NADAM", "(0.8, 0.999)")
    findings = lint_code(tmp_path, code, select=["HPL004"])
    assert [f.line for f in findings] == expected_lines(code, "HPL004")
    assert "from [0.8, 0.999]" in findings[0].message
    assert findings[0].fix is None  # the call's arguments do not spell the bounds


@pytest.mark.parametrize("nadam", [
    "(0.5, 0.6)",  # the entries disagree: which bounds apply is not known
    "BOUNDS",  # not a constant
])
def test_splatted_bounds_that_are_not_known_are_not_reported(tmp_path, nadam):
    code = SPLATTED_BOUNDS.replace("BETA1_NADAM", nadam)
    assert lint_code(tmp_path, code, select=["HPL004"]) == []


def test_splatted_bounds_that_agree_with_the_threshold_are_not_reported(tmp_path):
    code = SPLATTED_BOUNDS.replace('(0.8, 0.999)', '(0.9, 0.95)').replace("BETA1_NADAM", "(0.9, 0.95)")
    assert lint_code(tmp_path, code, select=["HPL004"]) == []
