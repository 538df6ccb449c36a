"""Searches through project helpers (hplint/analysis/search_helpers.py): a
function that forwards its parameters into a search call is judged at each
call of it, with the bounds, name and scale that call passes (HPL003, HPL004,
HPL007's searched betas). The idioms are reduced from real code: hand-written
`suggest(trial, name, low, high)` wrappers, and Auto-PyTorch's
`add_hyperparameter(cs, HyperparameterSearchSpace(...), UniformFloatHyperparameter)`,
two helpers deep in another module, with the distribution class a parameter."""

from __future__ import annotations

import pytest

from helpers import dedent, expected_lines, lines_of, lint_code, lint_files

SEARCH_RULES = ["HPL003", "HPL004", "HPL007"]

POSITIVE = {
    "optuna_wrapper_returns_the_draw": """
        import torch

        def suggest_uniform(trial, name, low, high):
            return trial.suggest_float(name, low, high)

        def objective(trial):
            lr = suggest_uniform(trial, "lr", 1e-5, 1e-1)  # <- HPL003
            momentum = suggest_uniform(trial, "momentum", 0.8, 0.999)  # <- HPL004
            model = torch.nn.Linear(3, 3)
            return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    """,
    "wrapper_keeps_the_draw_in_a_local": """
        def draw(trial, name, low, high):
            value = trial.suggest_float(name, low, high)
            return value

        def objective(trial):
            return draw(trial, "learning_rate", 1e-6, 1e-2)  # <- HPL003
    """,
    "method_helper_named_by_its_variable": """
        import torch

        class Search:
            def _between(self, trial, low, high):
                return trial.suggest_float("x", low, high)

            def objective(self, trial, model):
                momentum = self._between(trial, 0.5, 0.999)  # <- HPL004
                return torch.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
    """,
    "ray_tune_wrapper_under_a_dict_key": """
        from ray import tune

        def span(low, high):
            return tune.uniform(low, high)

        config = {"lr": span(1e-4, 1e-1)}  # <- HPL003
    """,
    "log_flag_left_to_its_default": """
        def suggest(trial, name, low, high, log=False):
            return trial.suggest_float(name, low, high, log=log)

        def objective(trial):
            return suggest(trial, "lr", 1e-5, 1e-1)  # <- HPL003
    """,
    # Auto-PyTorch's spelling, in one file: the class is handed in, and the
    # helper's branch on it picks the float hyperparameter.
    "distribution_class_handed_to_the_helper": """
        from typing import NamedTuple, Tuple

        from ConfigSpace.configuration_space import ConfigurationSpace
        from ConfigSpace.hyperparameters import CategoricalHyperparameter, UniformFloatHyperparameter

        class SearchSpace(NamedTuple):
            hyperparameter: str
            value_range: Tuple
            default_value: float
            log: bool = False

        def get_hyperparameter(hp, hp_type):
            if hp_type == CategoricalHyperparameter:
                return CategoricalHyperparameter(hp.hyperparameter, choices=hp.value_range)
            if hp_type == UniformFloatHyperparameter:
                return UniformFloatHyperparameter(hp.hyperparameter, lower=hp.value_range[0],
                                                  upper=hp.value_range[1], log=hp.log)
            raise ValueError(hp_type)

        def add_hyperparameter(cs, hp, hp_type):
            cs.add_hyperparameter(get_hyperparameter(hp, hp_type))

        def search_space(
            momentum=SearchSpace("momentum", (0.0, 0.99), 0.9),
            lr=SearchSpace("lr", (1e-5, 1e-1), 1e-2, log=True),
            beta=SearchSpace("beta", (0.8, 0.99), 0.9),
        ):
            cs = ConfigurationSpace()
            add_hyperparameter(cs, momentum, UniformFloatHyperparameter)  # <- HPL004
            add_hyperparameter(cs, lr, UniformFloatHyperparameter)
            add_hyperparameter(cs, beta, CategoricalHyperparameter)
            return cs
    """,
    "searched_adam_betas_through_the_helper": """
        from ConfigSpace.configuration_space import ConfigurationSpace
        from ConfigSpace.hyperparameters import UniformFloatHyperparameter
        from torch.optim import Adam

        def add_float(cs, name, low, high):
            cs.add_hyperparameter(UniformFloatHyperparameter(name, lower=low, upper=high, log=True))

        class AdamOptimizer:
            def __init__(self, beta1, beta2):
                self.beta1, self.beta2 = beta1, beta2

            def fit(self, net):
                return Adam(net.parameters(), betas=(self.beta1, self.beta2))  # <- HPL007

            @staticmethod
            def space():
                cs = ConfigurationSpace()
                add_float(cs, "beta1", 0.001, 0.1)
                add_float(cs, "beta2", 0.0001, 0.01)
                return cs
    """,
}

NEGATIVE = {
    "caller_asks_for_log_scale": """
        def suggest(trial, name, low, high, log=False):
            return trial.suggest_float(name, low, high, log=log)

        def objective(trial):
            return suggest(trial, "lr", 1e-5, 1e-1, log=True)
    """,
    "caller_passes_a_narrow_range": """
        def suggest(trial, name, low, high):
            return trial.suggest_float(name, low, high)

        def objective(trial):
            return suggest(trial, "lr", 0.01, 0.05), suggest(trial, "momentum", 0.9, 0.95)
    """,
    "caller_passes_other_names": """
        def suggest(trial, name, low, high):
            return trial.suggest_float(name, low, high)

        def objective(trial):
            return suggest(trial, "dropout", 0.0, 0.5), suggest(trial, "weight_decay", 1e-6, 1e-2)
    """,
    "arguments_through_star_args": """
        def suggest(trial, name, low, high):
            return trial.suggest_float(name, low, high)

        def objective(trial, spec):
            return suggest(trial, *spec)
    """,
    "helper_transforms_the_draw_into_a_log_scale": """
        def suggest(trial, name, low, high):
            return 10 ** trial.suggest_float(name, low, high)

        def objective(trial):
            return suggest(trial, "lr", -5, -1)
    """,
    "categorical_class_handed_in": """
        from ConfigSpace.hyperparameters import CategoricalHyperparameter, UniformFloatHyperparameter

        def make(name, low, high, hp_type):
            if hp_type is UniformFloatHyperparameter:
                return UniformFloatHyperparameter(name, lower=low, upper=high)
            return CategoricalHyperparameter(name, choices=[low, high])

        space = [make("lr", 1e-5, 1e-1, CategoricalHyperparameter)]
    """,
    "a_parameter_called_with_no_search_class": """
        import torch
        from ConfigSpace.hyperparameters import UniformFloatHyperparameter

        def apply(fn, low, high):
            return fn(low, high)

        x = apply(torch.clamp, 1e-5, 1e-1)
        lr = apply(min, 1e-5, 1e-1)
    """,
}


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_a_search_through_a_helper_is_judged_at_its_call(tmp_path, name):
    code = POSITIVE[name]
    findings = lint_code(tmp_path, code, select=SEARCH_RULES)
    for rule in SEARCH_RULES:
        assert lines_of(findings, rule) == expected_lines(code, rule), (rule, [f.message for f in findings])


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_helper_calls_that_search_well_are_clean(tmp_path, name):
    findings = lint_code(tmp_path, NEGATIVE[name], select=SEARCH_RULES)
    assert [(f.code, f.line, f.message) for f in findings] == []


def test_message_names_both_calls_and_no_fix_rewrites_the_call(tmp_path):
    (finding, _) = lint_code(tmp_path, POSITIVE["optuna_wrapper_returns_the_draw"], select=["HPL003", "HPL004"])
    assert finding.code == "HPL003" and (finding.span.start_line, finding.span.start_col) == (7, 10)
    assert "(suggest_uniform, which calls trial.suggest_float)" in finding.message
    assert "from [1e-5, 0.1]" in finding.message
    # `log=True` on `suggest_uniform(...)` would be a TypeError: the scale is the helper's.
    assert finding.fix is None


def test_helper_with_fixed_bounds_is_reported_once_inside_it(tmp_path):
    code = """
        def sample_lr(trial, low=1e-5, high=1e-1):
            return trial.suggest_float("lr", low, high)  # <- HPL003

        def objective(trial):
            return sample_lr(trial)
    """
    findings = lint_code(tmp_path, code, select=["HPL003"])
    assert lines_of(findings, "HPL003") == expected_lines(code, "HPL003")


AUTO_PYTORCH_COMMON = """
    from typing import NamedTuple, Sequence

    from ConfigSpace.hyperparameters import CategoricalHyperparameter, Constant, UniformFloatHyperparameter

    class HyperparameterSearchSpace(NamedTuple):
        hyperparameter: str
        value_range: Sequence
        default_value: float
        log: bool = False

    def get_hyperparameter(hyperparameter, hyperparameter_type):
        if len(hyperparameter.value_range) == 1:
            return Constant(hyperparameter.hyperparameter, hyperparameter.value_range[0])
        if hyperparameter_type == CategoricalHyperparameter:
            return CategoricalHyperparameter(hyperparameter.hyperparameter, choices=hyperparameter.value_range)
        if hyperparameter_type == UniformFloatHyperparameter:
            return UniformFloatHyperparameter(hyperparameter.hyperparameter,
                                              lower=hyperparameter.value_range[0],
                                              upper=hyperparameter.value_range[1],
                                              log=hyperparameter.log)
        raise ValueError(hyperparameter_type)

    def add_hyperparameter(cs, hyperparameter, hyperparameter_type):
        cs.add_hyperparameter(get_hyperparameter(hyperparameter, hyperparameter_type))
"""

AUTO_PYTORCH_OPTIMIZER = """
    from ConfigSpace.configuration_space import ConfigurationSpace
    from ConfigSpace.hyperparameters import CategoricalHyperparameter, UniformFloatHyperparameter
    from torch.optim import Adam

    from pkg.utils.common import HyperparameterSearchSpace, add_hyperparameter

    class AdamOptimizer:
        def __init__(self, lr, beta1, beta2):
            self.lr, self.beta1, self.beta2 = lr, beta1, beta2

        def fit(self, network):
            self.optimizer = Adam(network.parameters(), lr=self.lr, betas=(self.beta1, self.beta2))  # <- HPL007
            return self

        @staticmethod
        def get_hyperparameter_search_space(
            lr=HyperparameterSearchSpace(hyperparameter="lr", value_range=(1e-5, 1e-1), default_value=1e-2, log=True),
            beta1=HyperparameterSearchSpace(hyperparameter="beta1", value_range=(0.85, 0.999), default_value=0.9),
            beta2=HyperparameterSearchSpace(hyperparameter="beta2", value_range=(0.9, 0.9999), default_value=0.9),
            use_amsgrad=HyperparameterSearchSpace(hyperparameter="amsgrad", value_range=(0.1, 0.9), default_value=0.1),
        ):
            cs = ConfigurationSpace()
            add_hyperparameter(cs, lr, UniformFloatHyperparameter)
            add_hyperparameter(cs, beta1, UniformFloatHyperparameter)  # <- HPL004
            add_hyperparameter(cs, beta2, UniformFloatHyperparameter)  # <- HPL004
            add_hyperparameter(cs, use_amsgrad, CategoricalHyperparameter)
            return cs
"""


def _auto_pytorch_tree():
    return {
        "pkg/__init__.py": "",
        "pkg/utils/__init__.py": "",
        "pkg/utils/common.py": dedent(AUTO_PYTORCH_COMMON),
        "pkg/optim/__init__.py": "",
        "pkg/optim/adam.py": dedent(AUTO_PYTORCH_OPTIMIZER),
    }


def test_auto_pytorch_search_spaces_through_helpers_of_another_module(tmp_path):
    findings = lint_files(tmp_path, _auto_pytorch_tree(), "pkg/optim/adam.py", select=SEARCH_RULES)
    for rule in SEARCH_RULES:
        assert lines_of(findings, rule) == expected_lines(AUTO_PYTORCH_OPTIMIZER, rule), rule
    hpl004 = [f for f in findings if f.code == "HPL004"]
    assert "`beta1` is sampled on a linear scale from [0.85, 0.999]" in hpl004[0].message
    assert "(add_hyperparameter, which calls UniformFloatHyperparameter)" in hpl004[0].message
    searched = next(f for f in findings if f.code == "HPL007")
    assert "searched betas" in searched.message


def test_the_helpers_own_module_has_no_finding(tmp_path):
    # Its search call reads parameters only: nothing to judge without a caller,
    # whichever other files are in the run.
    assert lint_files(tmp_path, _auto_pytorch_tree(), "pkg/utils/common.py", select=SEARCH_RULES) == []
