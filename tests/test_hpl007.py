"""HPL007 adam-non-default-hyperparameters."""

import re

import pytest

from hplint.catalogue import load_catalogue
from hplint.config import ConfigError
from hplint.findings import Severity
from hplint.rules.hpl007_adam_non_default import RECIPES

from helpers import apply_edits, dedent, expected_lines, lines_of, lint_code, lint_files

POSITIVE = {
    "betas_literal": """
        import torch
        opt = torch.optim.Adam(params, lr=3e-4, betas=(0.8, 0.95))  # <- HPL007
    """,
    "adamw_from_import_eps": """
        from torch.optim import AdamW
        opt = AdamW(params, eps=1e-4)  # <- HPL007
    """,
    "positional_betas": """
        import torch.optim as optim
        opt = optim.Adam(params, 1e-3, [0.7, 0.999])  # <- HPL007
    """,
    "argparse_default_dcgan_outside_a_gan": """
        import argparse, torch
        p = argparse.ArgumentParser()
        p.add_argument("--beta1", type=float, default=0.5)
        args = p.parse_args()
        opt = torch.optim.Adam(model.parameters(), betas=(args.beta1, 0.999))  # <- HPL007
    """,
    "module_constant_and_config_dict": """
        import torch
        EPS = 3e-6
        CONFIG = {"betas": (0.85, 0.95)}
        a = torch.optim.NAdam(params, eps=EPS)  # <- HPL007
        b = torch.optim.RAdam(params, betas=CONFIG["betas"])  # <- HPL007
    """,
    "adamax_aliased": """
        from torch.optim import Adamax as Opt
        opt = Opt(params, betas=(0.95, 0.999))  # <- HPL007
    """,
    "from_torch_import_optim": """
        from torch import optim
        opt = optim.SparseAdam(params, betas=(0.8, 0.9))  # <- HPL007
    """,
    "constant_from_project_module": """
        import torch
        from settings import ADAM_BETAS
        opt = torch.optim.Adam(params, betas=ADAM_BETAS)  # <- HPL007
    """,
    "apex_fused_adam_positional_slot": """
        from apex.optimizers import FusedAdam
        opt = FusedAdam(params, 1e-3, True, (0.8, 0.9))  # <- HPL007
    """,
    "bitsandbytes": """
        import bitsandbytes as bnb
        a = bnb.optim.AdamW8bit(params, lr=1e-3, betas=(0.8, 0.9))  # <- HPL007
        b = bnb.optim.PagedAdamW(params, eps=1e-4)  # <- HPL007
    """,
    "deepspeed": """
        from deepspeed.ops.adam import DeepSpeedCPUAdam, FusedAdam
        a = DeepSpeedCPUAdam(params, lr=1e-3, betas=(0.7, 0.99))  # <- HPL007
        b = FusedAdam(params, 1e-3, True, (0.9, 0.999), 1e-4)  # <- HPL007
    """,
    "keyword_after_star_args": """
        import torch
        opt = torch.optim.Adam(*groups, betas=(0.8, 0.9), **extra)  # <- HPL007
        ok = torch.optim.Adam(*groups, (0.8, 0.9))
    """,
    "timm_factory": """
        from timm.optim import create_optimizer_v2
        opt = create_optimizer_v2(model, opt="adamw", lr=1e-3, betas=(0.8, 0.9))  # <- HPL007
        sgd = create_optimizer_v2(model, "sgd", lr=1e-3, betas=(0.8, 0.9))
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
    # huggingface/notebooks longform-qa: Adam's own 1e-8 (TrainingArguments'
    # adam_epsilon) handed to transformers.AdamW, whose default is 1e-6.
    "transformers_adamw_given_adams_default": """
        from transformers import AdamW
        opt = AdamW(params, lr=2e-4, eps=1e-8)
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
    # -- published recipes (rules/HPL007.md), as real repositories write them --
    "dcgan_pytorch_examples": """
        import argparse
        import torch.optim as optim
        parser = argparse.ArgumentParser()
        parser.add_argument('--beta1', type=float, default=0.5, help='beta1 for adam. default=0.5')
        opt = parser.parse_args()
        optimizerD = optim.Adam(netD.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
        optimizerG = optim.Adam(netG.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
    """,
    "pytorch_gan_b1_b2_generator": """
        import argparse
        import torch
        parser = argparse.ArgumentParser()
        parser.add_argument("--b1", type=float, default=0.5)
        parser.add_argument("--b2", type=float, default=0.999)
        opt = parser.parse_args()
        optimizer_G = torch.optim.Adam(generator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
        optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
    """,
    "wgan_gp_file_defines_a_generator": """
        import torch.nn as nn
        from torch import optim as O
        class Generator(nn.Module):
            pass
        class Critic(nn.Module):
            pass
        g, c = Generator(), Critic()
        opt_g = O.Adam(g.parameters(), lr=1e-4, betas=(0.5, 0.9))
        opt_c = O.Adam(c.parameters(), lr=1e-4, betas=(0.0, 0.9))
    """,
    "stylegan_itertools_chain": """
        import itertools, torch
        opt = torch.optim.Adam(itertools.chain(G_AB.parameters(), G_BA.parameters()), betas=[0.0, 0.99])
    """,
    "transformer_vaswani": """
        import torch
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-09)
    """,
    "nanogpt_config_dict": """
        import torch
        config = dict(beta1=0.9, beta2=0.95)
        BETAS = (0.9, 0.95)
        a = torch.optim.AdamW(groups, lr=6e-4, betas=BETAS, fused=True)
    """,
    "instant_ngp": """
        import torch
        opt = torch.optim.Adam(params, lr=1e-2, betas=(0.9, 0.99), eps=1e-15)
    """,
    "ppo_eps": """
        import torch.optim as optim
        self_optimizer = optim.Adam(actor_critic.parameters(), lr=2.5e-4, eps=1e-5)
    """,
    "bert_eps_with_default_betas": """
        import torch
        opt = torch.optim.AdamW(params, lr=2e-5, betas=(0.9, 0.999), eps=1e-6)
    """,
    # CleanRL sac_atari.py: "TRY NOT TO MODIFY: eps=1e-4 increases numerical stability"
    "sac_discrete_cleanrl_gymnasium": """
        import gymnasium as gym
        import torch.optim as optim
        q_optimizer = optim.Adam(list(qf1.parameters()) + list(qf2.parameters()), lr=args.q_lr, eps=1e-4)
    """,
    # p-christ (the SAC-Discrete author's code): every agent subclasses Base_Agent
    "sac_discrete_agent_subclass": """
        from torch.optim import Adam
        from agents.Base_Agent import Base_Agent
        class SAC_Discrete(Base_Agent):
            def __init__(self, config):
                self.critic_optimizer = Adam(self.critic_local.parameters(), lr=3e-4, eps=1e-4)
    """,
    # kubeflow/katib darts-cnn-cifar10 run_trial.py: DARTS's architecture optimizer.
    "darts_architecture_weights": """
        import torch
        alpha_optim = torch.optim.Adam(model.getAlphas(), alpha_lr, betas=(0.5, 0.999), weight_decay=1e-3)
        arch_optim = torch.optim.Adam(model.arch_parameters(), lr=3e-4, betas=(0.5, 0.999))
    """,
    "deepspeed_transformer_recipe": """
        import deepspeed
        opt = deepspeed.ops.adam.FusedAdam(params, lr=1e-4, betas=(0.9, 0.95))
    """,
}


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_flags(tmp_path, name):
    code = POSITIVE[name]
    files = {"snippet.py": code, "settings.py": "ADAM_BETAS = (0.8, 0.95)\n"}
    findings = lint_files(tmp_path, files, "snippet.py", select=["HPL007"])
    assert lines_of(findings, "HPL007") == expected_lines(code, "HPL007"), findings


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_clean(tmp_path, name):
    assert lint_code(tmp_path, NEGATIVE[name], select=["HPL007"]) == []


@pytest.mark.parametrize("path, flagged", [
    ("dcgan/train.py", False), ("models/wgan_gp.py", False), ("stylegan2/run.py", False),
    ("classify/organize.py", True), ("morgan/train.py", True), ("mnist/main.py", True),
])
def test_gan_recipe_where_the_path_names_a_gan(tmp_path, path, flagged):
    code = "import torch\nopt = torch.optim.Adam(model.parameters(), betas=(0.5, 0.999))\n"
    findings = lint_files(tmp_path, {path: code}, path, select=["HPL007"])
    assert len(findings) == int(flagged)


@pytest.mark.parametrize("path, flagged", [
    ("agents/actor_critic_agents/SAC.py", False), ("sac_atari.py", False), ("rl/train.py", False),
    ("mnist/main.py", True), ("classify/sacrifice.py", True),
])
def test_rl_recipe_where_the_path_names_rl(tmp_path, path, flagged):
    code = "import torch\nopt = torch.optim.Adam(model.parameters(), eps=1e-4)\n"
    findings = lint_files(tmp_path, {path: code}, path, select=["HPL007"])
    assert len(findings) == int(flagged)
    if flagged:
        assert "SAC-Discrete recipe" in findings[0].message
        assert "an RL recipe, but this optimizer does not train a reinforcement-learning agent" in findings[0].message


def test_beta1_one_half_on_ordinary_weights_is_still_a_gan_copy_paste(tmp_path):
    code = "import torch\nopt = torch.optim.Adam(model.parameters(), betas=(0.5, 0.999))\n"
    [finding] = lint_code(tmp_path, code, select=["HPL007"])
    assert "DCGAN recipe" in finding.message and "does not train a GAN" in finding.message


def test_message_names_values_and_recipe(tmp_path):
    [finding] = lint_code(tmp_path, POSITIVE["argparse_default_dcgan_outside_a_gan"], select=["HPL007"])
    assert "betas=(0.5, 0.999)" in finding.message
    assert "`(args.beta1, 0.999)`" not in finding.message  # a tuple literal is shown by value
    assert "DCGAN recipe" in finding.message and "does not train a GAN" in finding.message
    assert finding.severity is Severity.INFO
    assert "accepted-betas" in finding.message


def test_one_finding_per_call_naming_every_change(tmp_path):
    code = """
        import torch
        opt = torch.optim.Adam(params, betas=(0.7, 0.99), eps=1e-6)  # <- HPL007
    """
    [finding] = lint_code(tmp_path, code, select=["HPL007"])
    assert "betas=(0.7, 0.99)" in finding.message and "eps=1e-6 (the BERT / RoBERTa recipe" in finding.message
    # the eps is a recipe, the betas are not: the message says which one the table lacks
    assert "recipe table does not list betas=(0.7, 0.99)." in finding.message
    fixed = apply_edits(dedent(code), finding.fix.edits)
    assert "opt = torch.optim.Adam(params)  # <- HPL007" in fixed


SEARCHED = {
    "optuna_local": """
        import torch
        def objective(trial):
            beta1 = trial.suggest_float("beta1", 0.8, 0.99)
            return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(beta1, 0.999))  # <- HPL007
    """,
    "optuna_inline_eps": """
        from torch import optim
        def objective(trial):
            opt = optim.AdamW(model.parameters(), eps=trial.suggest_float("eps", 1e-9, 1e-6, log=True))  # <- HPL007
    """,
    "optuna_categorical_recipe_values": """
        import torch
        def objective(trial):
            b2 = trial.suggest_categorical("beta2", [0.98, 0.999])
            return torch.optim.Adam(model.parameters(), betas=(0.9, b2))  # <- HPL007
    """,
    "ray_tune_config": """
        import torch
        from ray import tune
        search_space = {"lr": tune.loguniform(1e-5, 1e-1), "beta1": tune.uniform(0.8, 0.99)}
        def train_fn(config):
            opt = torch.optim.Adam(model.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999))  # <- HPL007
    """,
    "ray_tune_choice_of_recipes": """
        import torch
        from ray import tune
        config = {"lr": tune.loguniform(1e-5, 1e-2), "beta2": tune.choice([0.95, 0.98, 0.999])}
        def train_fn(config):
            opt = torch.optim.AdamW(model.parameters(), betas=(0.9, config["beta2"]))  # <- HPL007
    """,
    # DomainBed's registry: a random search drawn by hand from a NumPy generator.
    "numpy_generator_registry": """
        import numpy as np
        import torch

        def random_hparams(seed):
            r = np.random.RandomState(seed)
            return {"lr": 10 ** r.uniform(-5, -3), "beta1": r.choice([0.0, 0.5])}

        class DANN(torch.nn.Module):
            def __init__(self, hparams):
                super().__init__()
                self.opt = torch.optim.Adam(self.parameters(), lr=hparams["lr"],
                                            betas=(hparams["beta1"], 0.9))  # <- HPL007
    """,
    "random_module_choice": """
        import random
        import torch
        def trial_config():
            return {"eps": random.choice([1e-8, 1e-6])}
        def build(model, cfg):
            return torch.optim.Adam(model.parameters(), eps=cfg["eps"])  # <- HPL007
    """,
    # awslabs/syne-tune transformer_wikitext2: β1 is the searched `momentum`.
    "syne_tune_momentum_as_beta1": """
        import torch
        from syne_tune.config_space import uniform, loguniform, choice
        _config_space = {"lr": loguniform(1e-6, 1e-3), "momentum": uniform(0, 0.99),
                         "optimizer_name": choice(["sgd", "adam"])}
        def objective(config):
            return torch.optim.Adam(model.parameters(), lr=config["lr"], betas=(config["momentum"], 0.999))  # <- HPL007
    """,
    "hyperopt_eps": """
        import torch
        from hyperopt import hp
        space = {"eps": hp.loguniform("eps", -20, -10)}
        def objective(params):
            return torch.optim.Adam(model.parameters(), eps=params["eps"])  # <- HPL007
    """,
}


@pytest.mark.parametrize("name", sorted(SEARCHED))
def test_searched_betas_and_eps_are_warnings(tmp_path, name):
    code = SEARCHED[name]
    findings = lint_code(tmp_path, code, select=["HPL007"])
    assert lines_of(findings, "HPL007") == expected_lines(code, "HPL007"), findings
    assert [f.severity for f in findings] == [Severity.WARNING]
    assert "searched" in findings[0].message and "learning rate" in findings[0].message


def test_a_random_draw_that_feeds_no_beta_is_no_search(tmp_path):
    code = """
        import numpy as np
        import torch
        rng = np.random.default_rng(0)
        crop = rng.choice([224, 256])
        def build(model):
            return torch.optim.Adam(model.parameters(), betas=(0.9, 0.999))
    """
    assert lint_code(tmp_path, code, select=["HPL007"]) == []


def test_searched_learning_rate_only_is_not_reported(tmp_path):
    code = """
        import torch
        def objective(trial):
            lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
            return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))
    """
    assert lint_code(tmp_path, code, select=["HPL007"]) == []


def test_extreme_eps_is_a_warning(tmp_path):
    code = """
        import torch
        a = torch.optim.Adam(params, eps=1e-10)
        b = torch.optim.Adam(params, eps=0.1)
        c = torch.optim.Adam(params, eps=1e-4)
        d = torch.optim.Adam(params, eps=1e-15)
    """
    findings = lint_code(tmp_path, code, select=["HPL007"])
    # eps=1e-15 is the Instant-NGP recipe: accepted in the default mode
    assert [(f.line, f.severity) for f in findings] == [
        (2, Severity.WARNING), (3, Severity.WARNING), (4, Severity.INFO)]


def _config(tmp_path, text):
    (tmp_path / "pyproject.toml").write_text(text)
    from hplint.config import load_config
    return load_config(start=tmp_path)


def test_accepted_values_from_config(tmp_path):
    config = _config(tmp_path, "[tool.hplint.rules.HPL007]\naccepted-betas = [[0.7, 0.999]]\naccepted-eps = [1e-4]\n")
    code = """
        import torch
        a = torch.optim.Adam(params, betas=(0.7, 0.999), eps=1e-4)
        b = torch.optim.Adam(params, betas=(0.7, 0.99))  # <- HPL007
    """
    findings = lint_files(tmp_path, {"snippet.py": code}, "snippet.py", config=config)
    assert lines_of(findings, "HPL007") == [3]


def test_strict_mode_reports_recipes_but_not_accepted_values(tmp_path):
    config = _config(tmp_path, '[tool.hplint.rules.adam-non-default-hyperparameters]\nmode = "strict"\n'
                               'accepted-eps = [1e-5]\n')
    code = """
        import torch
        a = torch.optim.Adam(model.parameters(), betas=(0.9, 0.98), eps=1e-9)  # <- HPL007
        b = torch.optim.Adam(netG.parameters(), betas=(0.5, 0.999))  # <- HPL007
        c = torch.optim.Adam(model.parameters(), eps=1e-5)
        d = torch.optim.Adam(model.parameters(), betas=(0.9, 0.999))
    """
    findings = lint_files(tmp_path, {"snippet.py": code}, "snippet.py", config=config)
    assert lines_of(findings, "HPL007") == expected_lines(code, "HPL007")
    assert "the Transformer recipe" in findings[0].message and "strict" in findings[0].message
    assert all(f.severity is Severity.INFO for f in findings)


@pytest.mark.parametrize("value, error", [('"lenient"', 'must be one of "recipes", "strict"'),
                                          ("1", "must be a string")])
def test_mode_is_checked_by_the_config(tmp_path, value, error):
    with pytest.raises(ConfigError, match=error):
        _config(tmp_path, f"[tool.hplint.rules.HPL007]\nmode = {value}\n")


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


def _number(text: str):
    text = text.strip()
    return float(text) if text else None


def test_documented_recipe_table_is_the_rules_table():
    body = load_catalogue()["HPL007"].sections["what it does"]
    rows = [line for line in body.splitlines() if line.startswith("| ") and not line.startswith("| recipe")]
    documented = []
    for row in rows:
        name, betas, eps, only, _source = [c.strip() for c in row.strip("|").split("|")]
        pair = tuple(float(v) for v in re.findall(r"[\d.]+", betas)) or None
        documented.append((name, pair, _number(eps), only or None))
    assert documented == [(r.name, r.betas, r.eps, r.only) for r in RECIPES]


# StyleGAN2's lazy regularisation steps D and G less often and corrects the
# momentum: betas=(0 ** r, 0.99 ** r) with r = k / (k + 1) is the StyleGAN recipe.
_LAZY_REG = """
import argparse
import torch.nn as nn
from torch import optim
parser = argparse.ArgumentParser()
parser.add_argument("--d_reg_every", type=int, default=16)
args = parser.parse_args()
discriminator = nn.Sequential(nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))
d_reg_ratio = args.d_reg_every / (args.d_reg_every + 1)
d_optim = optim.Adam(discriminator.parameters(), lr=0.002 * d_reg_ratio, betas=BETAS)
"""


@pytest.mark.parametrize("betas", ["(0 ** d_reg_ratio, 0.99 ** d_reg_ratio)", "[0.0 ** d_reg_ratio, 0.99 ** d_reg_ratio]"])
def test_lazy_regularisation_corrected_stylegan_betas_are_the_recipe(tmp_path, betas):
    files = {"stylegan2/train.py": _LAZY_REG.replace("BETAS", betas)}
    assert lint_files(tmp_path, files, "stylegan2/train.py", select=["HPL007"]) == []


@pytest.mark.parametrize("betas", [
    "(0.7 ** d_reg_ratio, 0.99 ** d_reg_ratio)",  # the base is no recipe
    "(0 ** d_reg_ratio, 0.99 ** 0.5)",  # two different corrections
])
def test_powers_of_other_betas_are_reported(tmp_path, betas):
    files = {"stylegan2/train.py": _LAZY_REG.replace("BETAS", betas)}
    [finding] = lint_files(tmp_path, files, "stylegan2/train.py", select=["HPL007"])
    assert "betas=(" in finding.message


@pytest.mark.parametrize("optimizer, flagged", [
    ('"Adam"', True),
    ('"AdamW"', True),
    ('"SGD"', False),  # no betas
])
def test_an_optimizer_class_picked_by_name_with_getattr(tmp_path, optimizer, flagged):
    code = f"""
        import argparse
        import torch

        parser = argparse.ArgumentParser()
        parser.add_argument("--optimizer", default={optimizer})
        args = parser.parse_args()
        net = torch.nn.Linear(2, 2)
        opt = getattr(torch.optim, args.optimizer)(net.parameters(), lr=1e-3, betas=(0.7, 0.9))
        """
    findings = [f for f in lint_code(tmp_path, code) if f.code == "HPL007"]
    assert len(findings) == (1 if flagged else 0)
    if flagged:
        assert findings[0].message.startswith(f"{optimizer.strip(chr(34))} built with betas=(0.7, 0.9)")


# higher-order-damping-in-ml (set 56): Optuna's betas reach Adam through a
# helper's dict of suggestions and a second dict built from it.
_SEARCHED_THROUGH_DICTS = """
import optuna
import torch

def adam_params(trial):
    return {
        "lr": trial.suggest_float("lr", 1e-6, 1e-2, log=True),
        "beta_1": trial.suggest_float("beta_1", 0.85, 0.999),
    }

def objective(trial):
    model = torch.nn.Linear(4, 1)
    p = adam_params(trial)
    hp = {"lr": p["lr"], "betas": (BETA1, 0.999)}
    opt = torch.optim.Adam(model.parameters(), lr=hp["lr"], betas=hp["betas"])
    return 0.0
"""


@pytest.mark.parametrize("beta1, searched", [('p["beta_1"]', True), ("0.9", False)])
def test_betas_searched_through_dicts(tmp_path, beta1, searched):
    findings = lint_code(tmp_path, _SEARCHED_THROUGH_DICTS.replace("BETA1", beta1), select=["HPL007"])
    assert any("searched betas" in f.message for f in findings) is searched
