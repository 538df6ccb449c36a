"""HPL003 lr-linear-sampling: learning rates searched uniformly over a decade
or more, in every library's spelling; log-scale spellings stay clean."""

from __future__ import annotations

import pytest

from hplint.analysis.hyperparams import is_learning_rate
from hplint.analysis.source import SourceError, parse_source
from hplint.config import Config
from hplint.engine import Linter
from hplint.findings import FixSafety

from helpers import apply_edits, expected_lines, lines_of, lint_code, lint_files

RULE = "HPL003"

POSITIVE = {
    # Combatting-partisan-homogenization (set 47): the width of the range held in a local
    "affine_width_in_a_local": """
        import numpy as np

        def random_search_lr(n, max_lr=1e-3, min_lr=1e-7):
            span = max_lr - min_lr
            lrs = (np.random.rand(n) * span + min_lr).tolist()  # <- HPL003
            return lrs
    """,
    "affine_width_and_low_in_locals": """
        import random

        def sample(lo=1e-6, hi=1e-2):
            width = hi - lo
            offset = lo
            lr = offset + width * random.random()  # <- HPL003
            return lr
    """,
    # Epistimio/orion's hyperband tutorial: priors are strings in the space dict.
    "orion_prior_strings": """
        from orion.client import build_experiment

        experiment = build_experiment(
            "hyperband-cifar10",
            space={
                "epochs": "fidelity(1, 120, base=4)",
                "learning_rate": "uniform(1e-5, 0.1)",  # <- HPL003
                "lr_backbone": 'orion~uniform(1e-4, 1e-1, default_value=0.01)',  # <- HPL003
            },
        )
    """,
    # Katib's Python SDK: `katib.search.double` is uniform (kubeflow/katib's
    # tune-train-from-func notebook), through an alias import and as a keyword.
    "katib_search_double": """
        import kubeflow.katib as katib
        from kubeflow.katib import search

        parameters = {"lr": katib.search.double(min=1e-5, max=0.1)}  # <- HPL003
        client.tune(name="tune", objective=train, parameters=parameters)
        client.tune(name="again", objective=train,
                    parameters={"learning_rate": search.double(min=1e-4, max=0.1)})  # <- HPL003
    """,
    # kubeflow/katib's early-stopping notebook: the Experiment built from model
    # classes, its bounds strings as in the YAML.
    "katib_parameter_spec": """
        from kubeflow.katib import V1beta1ParameterSpec, V1beta1FeasibleSpace

        parameters = [
            V1beta1ParameterSpec(  # <- HPL003
                name="lr",
                parameter_type="double",
                feasible_space=V1beta1FeasibleSpace(min="0.01", max="0.3"),
            ),
            V1beta1ParameterSpec(name="momentum", parameter_type="double",
                                 feasible_space=V1beta1FeasibleSpace(min="0.5", max="0.9")),
        ]
    """,
    # fmfn/BayesianOptimization (t81_558's Bayesian hyperparameter notebook):
    # every pbounds entry is searched on a linear scale.
    "bayes_opt_pbounds_bound_to_a_name": """
        from bayes_opt import BayesianOptimization

        pbounds = {"dropout": (0.0, 0.499),
                   "learning_rate": (0.0, 0.1),  # <- HPL003
                   "neuronPct": (0.01, 1)}
        optimizer = BayesianOptimization(f=evaluate_network, pbounds=pbounds, random_state=1)
    """,
    # SMAC3's priors example: scikit-learn's MLP name, without log=True.
    "configspace_learning_rate_init": """
        from ConfigSpace import ConfigurationSpace, UniformFloatHyperparameter

        cs = ConfigurationSpace()
        learning_rate_init = UniformFloatHyperparameter(  # <- HPL003
            "learning_rate_init",
            lower=1e-5,
            upper=1.0,
            default_value=1e-3,
        )
        cs.add([learning_rate_init])
    """,
    "bayes_opt_pbounds_in_the_call": """
        import bayes_opt

        def search(evaluate):
            optimizer = bayes_opt.BayesianOptimization(evaluate, {"lr": (1e-5, 1e-1)})  # <- HPL003
            optimizer.maximize(init_points=5, n_iter=20)
    """,
    # awslabs/syne-tune benchmarking scripts: `_config_space = {...}` of Syne Tune domains.
    "syne_tune_config_space": """
        from syne_tune.config_space import randint, uniform, loguniform, finrange

        _config_space = {
            "batch_size": randint(8, 256),
            "lr": uniform(1e-4, 1e-1),  # <- HPL003
            "weight_decay": loguniform(1e-5, 1e-3),
            "learning_rate": finrange(1e-5, 1e-2, 4),  # <- HPL003
        }
    """,
    "optuna_suggest_float": """
        def objective(trial):
            lr = trial.suggest_float("lr", 1e-4, 1.0)  # <- HPL003
            return lr
    """,
    "optuna_suggest_uniform_into_optimizer": """
        import torch

        def objective(trial, model):
            x = trial.suggest_uniform("x", 1e-5, 1e-1)  # <- HPL003
            opt = torch.optim.SGD(model.parameters(), lr=x)
            return opt
    """,
    "optuna_discrete_and_distributions": """
        import optuna
        from optuna.distributions import FloatDistribution

        def objective(trial):
            return trial.suggest_discrete_uniform("learning_rate", 0.0001, 0.1, 0.0001)  # <- HPL003

        DISTRIBUTIONS = {
            "lr": FloatDistribution(1e-5, 1e-2),  # <- HPL003
            "base_lr": optuna.distributions.UniformDistribution(1e-5, 1e-2),  # <- HPL003
        }
    """,
    "ray_tune": """
        import numpy as np
        from ray import tune
        from ray.tune import quniform as q

        config = {
            "lr": tune.uniform(1e-4, 1e-1),  # <- HPL003
            "actor_lr": q(1e-4, 1e-1, 1e-4),  # <- HPL003
            "critic_lr": tune.sample_from(lambda spec: np.random.uniform(1e-4, 1e-1)),  # <- HPL003
            "alpha_lr": tune.sample_from(lambda spec: 10 ** np.random.uniform(-4, -1)),
        }
    """,
    "hyperopt_label": """
        from hyperopt import hp

        space = hp.choice("optimizer", [
            {"type": "sgd", "params": hp.uniform("sgd_lr", 1e-4, 1e-1)},  # <- HPL003
            {"type": "adam", "params": hp.quniform("adam_learning_rate", 1e-5, 1e-2, 1e-5)},  # <- HPL003
        ])
    """,
    "skopt_and_scipy": """
        from scipy import stats
        from scipy.stats import uniform
        from skopt.space import Real

        dimensions = [
            Real(1e-5, 1e-1, name="learning_rate"),  # <- HPL003
            Real(1e-5, 1e-1, "uniform", name="lr2"),  # <- HPL003
            Real(1e-5, 1e-1, "log-uniform", name="lr3"),
        ]
        param_distributions = {
            "module__lr": uniform(1e-4, 1e-1),  # <- HPL003
            "clf__learning_rate": stats.uniform(loc=0.0, scale=0.5),  # <- HPL003
        }
    """,
    "configspace": """
        import ConfigSpace as CS
        from ConfigSpace import Float

        cs = CS.ConfigurationSpace()
        cs.add([
            CS.UniformFloatHyperparameter("lr", 1e-5, 1e-1, log=False),  # <- HPL003
            Float("init_lr", (1e-5, 1e-1)),  # <- HPL003
        ])
    """,
    "wandb_sweep": """
        sweep = {
            "method": "random",
            "parameters": {
                "learning-rate": {"distribution": "uniform", "min": 0.0001, "max": 0.1},  # <- HPL003
                "lr": dict(distribution="q_uniform", min=1e-4, max=1e-1, q=1e-4),  # <- HPL003
                "learning_rate": {"min": 0.0001, "max": 0.1},  # <- HPL003
            },
        }
        sweep_config = {"parameters": {"lr": {'max': 1e-1, 'min': 1e-5}}}  # <- HPL003
    """,
    # nni's quick-start main.py: its search space spelled as a Python dict.
    "nni_search_space_dict": """
        import nni
        search_space = {
            "lr": {"_type": "uniform", "_value": [0.0001, 0.1]},  # <- HPL003
            'learning_rate': {'_type': 'quniform', '_value': (1e-5, 1e-2, 1e-5)},  # <- HPL003
        }
    """,
    "random_numpy_torch_sampling": """
        import random
        import numpy as np
        import torch

        class Search:
            def __init__(self):
                self.rng = np.random.default_rng(0)

            def sample(self, model):
                opt = torch.optim.SGD(model.parameters(), lr=random.uniform(1e-4, 1e-1))  # <- HPL003
                max_lr = np.random.uniform(1e-4, 1.0)  # <- HPL003
                peak_lr = self.rng.uniform(1e-5, 1e-2)  # <- HPL003
                lr = torch.empty(()).uniform_(1e-4, 1e-1).item()  # <- HPL003
                eta0 = torch.rand(()) * (1e-1 - 1e-4) + 1e-4  # <- HPL003
                init_lr = 1e-4 + (1e-1 - 1e-4) * random.random()  # <- HPL003
                return opt
    """,
    "positional_lr_and_grids": """
        import numpy as np
        import torch
        from numpy.random import default_rng

        def grid(model):
            rng = default_rng(1)
            torch.optim.SGD(model.parameters(), rng.uniform(1e-4, 1e-1))  # <- HPL003
            for lr in np.linspace(1e-5, 1e-1, 10):  # <- HPL003
                pass
            lrs = torch.linspace(1e-4, 1e-1, 8)  # <- HPL003
            return [torch.optim.Adam(model.parameters(), lr=float(x)) for x in torch.linspace(1e-4, 1e-1, 4)]  # <- HPL003
    """,
    "default_search_space_function": """
        from ray import tune

        LR_MIN = 10 ** -5

        def default_space(lr_max=1e-1):
            return {"learning_rate": tune.uniform(LR_MIN, lr_max), "weight_decay": tune.uniform(0.0, 0.1)}  # <- HPL003
    """,
    "library_default_spaces": """
        from ray import tune

        def hp_space_ray(trial):
            return {"learning_rate": tune.loguniform(1e-6, 1e-4), "seed": tune.uniform(1, 40)}

        def hp_space_wandb(trial):
            return {
                "method": "random",
                "parameters": {
                    "learning_rate": {"distribution": "uniform", "min": 1e-6, "max": 1e-4},  # <- HPL003
                    "seed": {"distribution": "int_uniform", "min": 1, "max": 40},
                    "batch_size": {"values": [8, 16, 32]},
                },
            }
    """,
    "zero_lower_bound_and_tuple_unpacking": """
        import random

        def sample():
            lr, wd = random.uniform(0, 0.1), random.uniform(0, 0.1)  # <- HPL003
            return lr, wd
    """,
    # ConnorBaker/BSRT's spaces: the Syne Tune call made by functools.partial.
    "syne_tune_partial": """
        from functools import partial
        from syne_tune.config_space import uniform
        import syne_tune.config_space as cs
        space = {"lr": partial(uniform, 1e-5, 1e-2)}  # <- HPL003
        base_lr = partial(cs.uniform, 1e-4, 1e-1)  # <- HPL003
    """,
    # A linear grid handed to Ray Tune's grid_search, in the spellings of
    # RichardStaszkiewicz/CNN-Hyperparameter-Tuning and others.
    "ray_grid_search_of_linear_grids": """
        import numpy as np
        from ray import tune
        a = {"lr": tune.grid_search(np.linspace(5e-4, 5e-2, 40))}  # <- HPL003
        b = {"learning_rate": tune.grid_search(np.array(range(1, 100, 2)) / 1000)}  # <- HPL003
        c = {"lr": tune.grid_search(list(np.arange(0.0005, 0.05, 0.001)))}  # <- HPL003
    """,
}

NEGATIVE = {
    # the same local width, mapped into an exponent: a log-uniform draw
    "affine_width_in_a_local_as_exponent": """
        import numpy as np

        def random_search_lr(n, hi=-3, lo=-7):
            span = hi - lo
            lrs = 10 ** (np.random.rand(n) * span + lo)
            return lrs
    """,
    # the width differs by branch: unknown, not guessed
    "affine_width_unknown": """
        import numpy as np

        def random_search_lr(n, fine, max_lr=1e-3, min_lr=1e-7):
            if fine:
                span = 1e-4
            else:
                span = max_lr - min_lr
            return np.random.rand(n) * span + min_lr
    """,
    "grids_that_are_log_spaced_narrow_or_no_learning_rate": """
        import numpy as np
        from functools import partial
        from ray import tune
        from syne_tune.config_space import loguniform
        a = {"lr": tune.grid_search(np.geomspace(5e-4, 5e-2, 40))}
        b = {"lr": tune.grid_search(np.array(range(10, 50, 5)) / 1000)}
        c = {"epochs": tune.grid_search(np.array(range(1, 100, 2)))}
        d = {"lr": partial(loguniform, 1e-5, 1e-2)}
        for lr_index in range(1, 100):
            pass
        steps = np.arange(0.001, 0.1, 0.001)
    """,
    # Orion: log priors, an integer prior, another name, and the same strings in
    # a file that does not import orion.
    "orion_log_discrete_and_no_orion": """
        from orion.client import build_experiment

        space = {"learning_rate": "loguniform(1e-5, 0.1)", "lr_steps": "uniform(1, 1000, discrete=True)",
                 "x": "uniform(0, 30)"}
        build_experiment("e", space=space)
    """,
    "prior_like_strings_without_orion": """
        labels = {"lr": "uniform(1e-5, 0.1)"}
    """,
    # Katib: a log distribution, a range under a decade, an int parameter, and a
    # tensor's `.double()` that only shares the method name.
    "katib_log_narrow_int_and_tensor_double": """
        import torch
        from kubeflow.katib import V1beta1ParameterSpec, V1beta1FeasibleSpace, search

        parameters = [
            V1beta1ParameterSpec(name="lr", parameter_type="double",
                                 feasible_space=V1beta1FeasibleSpace(min="0.0001", max="0.1",
                                                                     distribution="logUniform")),
            V1beta1ParameterSpec(name="lr_steps", parameter_type="int",
                                 feasible_space=V1beta1FeasibleSpace(min="1", max="1000")),
        ]
        narrow = {"lr": search.double(min=0.01, max=0.05)}
        lr = torch.full((1,), 0.1).uniform_(0.5, 0.6).double()
    """,
    # The exponent bounded, the rate computed from it; and no bayes_opt import.
    "bayes_opt_exponent_bounds": """
        from bayes_opt import BayesianOptimization

        def evaluate(log_lr, dropout):
            return train(lr=10 ** log_lr, dropout=dropout)

        optimizer = BayesianOptimization(f=evaluate, pbounds={"log_lr": (-5, -1), "dropout": (0.0, 0.5)})
    """,
    "another_libraries_bayesian_optimization": """
        from mylib import BayesianOptimization

        optimizer = BayesianOptimization(f=evaluate, pbounds={"lr": (1e-5, 1e-1)})
    """,
    # Syne Tune's log spellings are a log-scale search.
    "syne_tune_log_scale": """
        from syne_tune.config_space import loguniform, logfinrange

        _config_space = {"lr": loguniform(1e-6, 1e-3), "learning_rate": logfinrange(1e-5, 1e-2, 4)}
    """,
    "wandb_min_max_outside_a_sweep_or_log_or_integers": """
        limits = {"lr": {"min": 1e-5, "max": 1e-1}}  # not a sweep's `parameters`
        sweep = {"parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
            "lr_steps": {"min": 1, "max": 10},  # int_uniform; not a rate
            "learning_rate": {"values": [1e-4, 1e-3, 1e-2], "min": 1e-5, "max": 1e-1},
        }}
    """,
    "nni_search_space_dict_log_or_choice": """
        search_space = {
            "lr": {"_type": "loguniform", "_value": [0.0001, 0.1]},
            "lr_decay": {"_type": "choice", "_value": ["step", "cosine"]},
            "batch_size": {"_type": "uniform", "_value": [16, 512]},
        }
    """,
    "log_spellings": """
        import numpy as np
        import optuna
        import ConfigSpace as CS
        from hyperopt import hp
        from ray import tune
        from scipy.stats import loguniform, reciprocal
        from skopt.space import Real

        def objective(trial):
            a = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
            b = trial.suggest_loguniform("learning_rate", 1e-5, 1e-1)
            return a, b

        SPACE = {
            "lr": tune.loguniform(1e-5, 1e-1),
            "lr2": hp.loguniform("lr2", np.log(1e-5), np.log(1e-1)),
            "lr3": Real(1e-5, 1e-1, prior="log-uniform"),
            "lr4": Real(1e-5, 1e-1, "log-uniform"),
            "lr5": loguniform(1e-5, 1e-1),
            "lr6": reciprocal(1e-5, 1e-1),
            "lr7": CS.UniformFloatHyperparameter("lr7", 1e-5, 1e-1, log=True),
            "lr8": CS.Float("lr8", (1e-5, 1e-1), log=True),
            "lr9": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
            "lr10": optuna.distributions.LogUniformDistribution(1e-5, 1e-1),
        }
        SWEEP = {"parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
            "lr_exp": {"distribution": "log_uniform", "min": -11.5, "max": -2.3},
        }}
    """,
    "exponent_spellings": """
        import math
        import random
        import numpy as np
        import torch

        def sample(trial):
            a = 10 ** random.uniform(-5, -1)
            b = 10 ** trial.suggest_float("lr", -5, -1)
            c = np.power(10, np.random.uniform(-5, -1))
            d = math.pow(10, random.uniform(-5, -1))
            lr = np.exp(random.uniform(math.log(1e-5), math.log(1e-1)))
            r = -4 * np.random.rand()
            lr = 10 ** r
            log_lr = random.uniform(-5, -1)
            opt = torch.optim.SGD([], lr=10 ** log_lr)
            e = torch.empty(()).uniform_(-5, -1).exp()
            return a, b, c, d, e
    """,
    "log_grids": """
        import numpy as np
        import torch

        lrs = np.logspace(-5, -1, 5)
        lrs2 = np.geomspace(1e-5, 1e-1, 5)
        lrs3 = torch.logspace(-5, -1, 5)
    """,
    "narrow_range": """
        def objective(trial):
            lr = trial.suggest_float("lr", 1e-3, 5e-3)
            return lr
    """,
    "other_hyperparameters": """
        import random

        def objective(trial):
            wd = trial.suggest_float("weight_decay", 1e-6, 1e-2)
            p = trial.suggest_float("dropout", 0.0, 0.5)
            decay = trial.suggest_float("lr_decay", 0.01, 0.99)
            ramp = trial.suggest_float("pct_lr_ramp", 0.01, 0.3)
            warm = trial.suggest_float("lr_warmup_ratio", 0.0, 0.2)
            gamma = random.uniform(0.01, 0.5)
            step_size = trial.suggest_float("step_size", 1.0, 100.0)
            return wd, p, decay, ramp, warm, gamma, step_size
    """,
    "unresolved_receivers_and_names": """
        def sample(self, args, tune):
            a = tune.uniform(1e-4, 1e-1)  # `tune` is a parameter, not Ray Tune
            lr = self.sampler.uniform(1e-4, 1e-1)  # unknown receiver
            lr2 = uniform(1e-4, 1e-1)  # not imported
            return a, lr, lr2
    """,
    "unknown_bounds": """
        import argparse

        def objective(trial, args):
            return trial.suggest_float("lr", args.lr_min, args.lr_max)
    """,
    # Zeleni9/pytorch-wgan: WGAN-GP's interpolation weight is named `eta`, but it
    # is per-sample noise shaped like the batch, not a learning rate.
    "gradient_penalty_eta": """
        import torch

        def calculate_gradient_penalty(real, fake, batch_size):
            eta = torch.FloatTensor(batch_size, 1, 1, 1).uniform_(0, 1)
            lr = torch.rand(real.size(0), 1, device=real.device)
            return eta * real + (1 - eta) * fake + lr
    """,
    "weight_init_and_schedules": """
        import math
        import torch

        class Layer(torch.nn.Module):
            def reset_parameters(self):
                stdv = 1.0 / math.sqrt(16)
                self.weight.data.uniform_(-stdv, stdv)
                self.lr_scale = torch.linspace(0.1, 1.0, 10)
                self.t = torch.rand(16) * 0.9 + 0.1
    """,
}


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_flags_linear_lr_sampling(tmp_path, name):
    code = POSITIVE[name]
    findings = lint_code(tmp_path, code, select=[RULE])
    assert lines_of(findings, RULE) == expected_lines(code, RULE), [f.message for f in findings]


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_log_scale_and_other_names_are_clean(tmp_path, name):
    findings = lint_code(tmp_path, NEGATIVE[name], select=[RULE])
    assert findings == [], [(f.line, f.message) for f in findings]


def test_exact_position_and_message(tmp_path):
    findings = lint_code(tmp_path, POSITIVE["optuna_suggest_float"], select=[RULE])
    (f,) = findings
    assert (f.span.start_line, f.span.start_col, f.span.end_line, f.span.end_col) == (2, 10, 2, 46)
    assert "`lr`" in f.message and "[1e-4, 1]" in f.message
    assert "90% of the samples land in the top decade [0.1, 1]" in f.message
    assert "25%" in f.message  # what a log-uniform search would put there
    assert "trial.suggest_float" in f.message and "log=True" in f.message


def test_binding_through_keyword_is_named_and_related(tmp_path):
    code = POSITIVE["optuna_suggest_uniform_into_optimizer"]
    (f,) = lint_code(tmp_path, code, select=[RULE])
    assert (f.line, f.col) == (4, 9)
    assert "`lr`" in f.message and "[1e-5, 0.1]" in f.message
    assert [r.span.start_line for r in f.related] == [5]


def test_zero_lower_bound_message(tmp_path):
    (f,) = lint_code(tmp_path, POSITIVE["zero_lower_bound_and_tuple_unpacking"], select=[RULE])
    assert (f.line, f.col) == (4, 14)
    assert "[0, 0.1]" in f.message and "90%" in f.message and "cannot start at 0" in f.message
    assert f.fix is None


def test_under_two_decades_uses_the_upper_half(tmp_path):
    (f,) = lint_code(tmp_path, "def f(trial):\n    return trial.suggest_float('lr', 1e-3, 1e-2)\n", select=[RULE])
    # [sqrt(1e-3 * 1e-2), 1e-2] holds (1e-2 - 3.16e-3) / 9e-3 = 76% of a uniform sample, 50% of a log-uniform one.
    assert "76%" in f.message and "50%" in f.message and "[0.00316, 0.01]" in f.message


def test_bounds_from_a_constants_module(tmp_path):
    files = {
        "config.py": """
            LR_MIN = 1e-5
            LR_MAX = 10 ** -1
            BETA_RANGE = (0.9, 0.999)
        """,
        "search.py": """
            import config as C
            from config import LR_MIN

            def objective(trial):
                lr = trial.suggest_float("lr", LR_MIN, C.LR_MAX)
                return lr
        """,
    }
    findings = lint_files(tmp_path, files, "search.py", select=[RULE])
    assert [(f.line, f.col) for f in findings] == [(5, 10)]
    assert "[1e-5, 0.1]" in findings[0].message


def test_min_decades_option(tmp_path):
    code = "def f(trial):\n    return trial.suggest_float('lr', 1e-4, 1e-1)\n"
    path = tmp_path / "m.py"
    path.write_text(code)
    assert Linter(Config(select=(RULE,))).lint_file(path).findings
    strict = Config(select=(RULE,), options={RULE: {"min-decades": 4.0}})
    assert Linter(strict).lint_file(path).findings == []


def test_extra_lr_names_option(tmp_path):
    code = "def f(trial):\n    return trial.suggest_float('alpha', 1e-4, 1e-1)\n"
    path = tmp_path / "m.py"
    path.write_text(code)
    assert Linter(Config(select=(RULE,))).lint_file(path).findings == []
    extra = Config(select=(RULE,), options={RULE: {"extra-lr-names": ["alpha"]}})
    assert len(Linter(extra).lint_file(path).findings) == 1


@pytest.mark.parametrize("name, expected", [
    ("lr", True), ("learning_rate", True), ("learning-rate", True), ("learningRate", True),
    ("optimizer__lr", True), ("actor_lr", True), ("lr_actor", True), ("lrs", True), ("base_lr", True),
    ("eta0", True), ("lr2", True), ("learning_rate_init", True), ("learningRateInit", True),
    ("learning_rate_decay", False), ("learning_rate_warmup_steps", False),
    ("lr_decay", False), ("pct_lr_ramp", False), ("lr_warmup_ratio", False), ("lr_gamma", False),
    ("lr_ratio", False), ("lr_factor", False), ("lr_patience", False), ("log_lr", False),
    # PLDepth (set 47): a step-decay multiplier / SGDR's min-lr divisor; StyleGAN's equalised-lr multiplier
    ("lr_multi", False), ("lr_mul", False), ("lr_divisor", False),
    ("weight_decay", False), ("dropout", False), ("step_size", False), ("momentum", False),
])
def test_learning_rate_vocabulary(name, expected):
    assert is_learning_rate(name) is expected


# ------------------------------------------------------------------ fixes

FIXES = [
    ('from orion.client import build_experiment\nexp = build_experiment("e", space={"lr": "uniform(1e-5, 0.1)"})\n',
     '"loguniform(1e-5, 0.1)"'),
    ("import orion.client\nspace = {'lr': 'orion~uniform(1e-4, 1e-1, default_value=0.01)'}\n",
     "'orion~loguniform(1e-4, 1e-1, default_value=0.01)'"),
    ('def f(trial):\n    return trial.suggest_float("lr", 1e-4, 1.0)\n',
     'trial.suggest_float("lr", 1e-4, 1.0, log=True)'),
    ('def f(trial):\n    return trial.suggest_float("lr", 1e-4, 1.0, log=False)\n',
     'trial.suggest_float("lr", 1e-4, 1.0, log=True)'),
    ('def f(trial):\n    return trial.suggest_uniform("lr", 1e-4, 1.0)\n',
     'trial.suggest_float("lr", 1e-4, 1.0, log=True)'),
    ('from ray import tune\nspace = {"lr": tune.uniform(1e-4, 1e-1)}\n', 'tune.loguniform(1e-4, 1e-1)'),
    ('from ray import tune\nspace = {"lr": tune.quniform(1e-4, 1e-1, 1e-4)}\n', 'tune.qloguniform(1e-4, 1e-1, 1e-4)'),
    ('import numpy as np\nfrom hyperopt import hp\nspace = hp.uniform("lr", 1e-4, 1e-1)\n',
     'hp.loguniform("lr", np.log(1e-4), np.log(1e-1))'),
    ('from skopt.space import Real\nspace = [Real(1e-4, 1e-1, name="lr")]\n',
     'Real(1e-4, 1e-1, name="lr", prior="log-uniform")'),
    ('from skopt.space import Real\nspace = [Real(1e-4, 1e-1, "uniform", name="lr")]\n',
     'Real(1e-4, 1e-1, "log-uniform", name="lr")'),
    ('from scipy import stats\nd = {"lr": stats.uniform(1e-4, 1e-1)}\n', 'stats.loguniform(1e-4, 0.1001)'),
    ('from scipy.stats import uniform, loguniform\nd = {"lr": uniform(LO, SPAN)}\nLO = 1e-4\nSPAN = 0.1\n',
     'loguniform(LO, LO + SPAN)'),
    ('import ConfigSpace as CS\nh = CS.UniformFloatHyperparameter("lr", 1e-5, 1e-1)\n',
     'CS.UniformFloatHyperparameter("lr", 1e-5, 1e-1, log=True)'),
    ("sweep = {'lr': {'distribution': 'uniform', 'min': 1e-4, 'max': 1e-1}}\n", "'log_uniform_values'"),
    ("sweep = {'parameters': {'lr': {'min': 1e-4, 'max': 1e-1}}}\n",
     "{'distribution': 'log_uniform_values', 'min': 1e-4, 'max': 1e-1}"),
    ("space = {'lr': {'_type': 'uniform', '_value': [1e-4, 1e-1]}}\n", "'loguniform'"),
    ('import numpy as np\nlrs = np.linspace(1e-5, 1e-1, 5)\n', 'np.geomspace(1e-5, 1e-1, 5)'),
    ('import torch\nlrs = torch.linspace(1e-5, 1e-1, 5)\n', 'torch.logspace(-5, -1, 5)'),
    ('from syne_tune.config_space import uniform, loguniform\nspace = {"lr": uniform(1e-4, 1e-1)}\n',
     'loguniform(1e-4, 1e-1)'),
    ('from syne_tune import config_space as cs\nspace = {"lr": cs.finrange(1e-4, 1e-1, 4)}\n',
     'cs.logfinrange(1e-4, 1e-1, 4)'),
    ('import random\nlr = random.uniform(1e-4, 1e-1)\n', '10 ** random.uniform(-4, -1)'),
    ('import math, random\nlr = random.uniform(3e-4, 1e-1)\n', '10 ** random.uniform(math.log10(3e-4), -1)'),
    ('import numpy as np\nrng = np.random.default_rng(0)\nlr = rng.uniform(1e-4, 1e-1, size=3).item()\n',
     '(10 ** rng.uniform(-4, -1, size=3))'),
]


@pytest.mark.parametrize("code, replacement", FIXES)
def test_fix_is_safe_valid_and_idempotent(tmp_path, code, replacement):
    path = tmp_path / "m.py"
    linter = Linter(Config(select=(RULE,)))
    (f,) = linter.lint_text(code, path).findings
    assert f.fix is not None and f.fix.safety is FixSafety.SAFE
    fixed = apply_edits(code, f.fix.edits)
    assert replacement in fixed, fixed
    assert not isinstance(parse_source(fixed), SourceError)
    assert linter.lint_text(fixed, path).findings == []
    # Applying the fix a second time changes nothing: there is nothing left to fix.
    assert apply_edits(fixed, []) == fixed


@pytest.mark.parametrize("code", [
    'def f(trial):\n    return trial.suggest_float("lr", 1e-4, 1e-1, step=1e-4)\n',  # log=True forbids step
    'def f(trial):\n    return trial.suggest_float("lr", 0.0, 1e-1)\n',  # a log scale cannot start at 0
    'from hyperopt import hp\nspace = hp.uniform("lr", 1e-4, 1e-1)\n',  # no numpy/math to spell log
    'from ray.tune import uniform\nspace = {"lr": uniform(1e-4, 1e-1)}\n',  # loguniform not imported
    'from syne_tune.config_space import uniform\nspace = {"lr": uniform(1e-4, 1e-1)}\n',  # nor here
    'import random\nlr = 1 - random.uniform(0.001, 0.1) + 0.0001\n',  # mapped before use
    'import torch\nlr = torch.empty(()).uniform_(1e-4, 1e-1)\n',
])
def test_no_fix_where_it_cannot_be_spelled_safely(tmp_path, code):
    findings = Linter(Config(select=(RULE,))).lint_text(code, tmp_path / "m.py").findings
    assert [f.fix for f in findings if f.code == RULE] in ([None], [])


def test_examples_behave(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "examples"
    linter = Linter(Config(select=(RULE, "HPL004")))
    flagged = linter.lint_file(root / "search_optuna.py").findings
    assert [(f.code, f.line) for f in flagged] == [("HPL003", 13), ("HPL004", 14)]
    assert linter.lint_file(root / "search_clean.py").findings == []


def test_a_search_space_inside_a_test_of_the_searcher_is_a_fixture(tmp_path):
    # awslabs/syne-tune tst/: `{"lr": uniform(0, 1)}` is the input of a searcher under test.
    code = (
        "from syne_tune.config_space import uniform\n\n"
        "def test_cap_size(data):\n"
        "    config_space = {'lr': uniform(0, 1)}\n"
        "    return config_space\n\n"
        "SPACE = {'lr': uniform(1e-4, 1e-1)}\n"
    )
    # By default a test file gets no rule findings at all (`lint-tests = false`);
    # with lint-tests, the test function's space is still a fixture.
    assert lint_files(tmp_path / "c", {"tests/test_state.py": code}, "tests/test_state.py", [RULE]) == []
    in_tests = lint_files(tmp_path / "a", {"tests/test_state.py": code}, "tests/test_state.py", [RULE],
                          config=Config(lint_tests=True))
    assert lines_of(in_tests, RULE) == [7]  # the module-level space is still a search
    elsewhere = lint_files(tmp_path / "b", {"search.py": code}, "search.py", [RULE])
    assert lines_of(elsewhere, RULE) == [4, 7]
