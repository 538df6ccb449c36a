"""The Adam family: which calls build an Adam-family optimizer and where its
betas and eps are (torch, apex, DeepSpeed, bitsandbytes, Hugging Face, timm's
factory), and whether an optimizer trains a GAN or a reinforcement-learning
agent (the contexts in which recipes such as DCGAN's beta1=0.5 or SAC-Discrete's
eps=1e-4 are the published values).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import libcst as cst

from .modes import name_words
from .walk import walk

TORCH_BETAS = (0.9, 0.999)
TORCH_EPS = 1e-8


@dataclass(frozen=True)
class OptimizerSpec:
    betas_slot: Optional[int]  # positional index of betas (None: keyword only)
    eps_slot: Optional[int]
    betas: Tuple[float, float] = TORCH_BETAS
    eps: float = TORCH_EPS


OPTIMIZERS: Dict[str, OptimizerSpec] = {}
# torch: (params, lr, betas, eps, ...)
for _mod, _name in (("adam", "Adam"), ("adamw", "AdamW"), ("nadam", "NAdam"), ("radam", "RAdam"),
                    ("adamax", "Adamax"), ("sparse_adam", "SparseAdam")):
    OPTIMIZERS[f"torch.optim.{_name}"] = OPTIMIZERS[f"torch.optim.{_mod}.{_name}"] = OptimizerSpec(2, 3)
# apex / DeepSpeed: (params, lr, bias_correction, betas, eps, ...)
for _qn in ("apex.optimizers.FusedAdam", "apex.optimizers.fused_adam.FusedAdam",
            "deepspeed.ops.adam.FusedAdam", "deepspeed.ops.adam.fused_adam.FusedAdam",
            "deepspeed.ops.adam.DeepSpeedCPUAdam", "deepspeed.ops.adam.cpu_adam.DeepSpeedCPUAdam"):
    OPTIMIZERS[_qn] = OptimizerSpec(3, 4)
# bitsandbytes: (params, lr, betas, eps, ...)
for _name in ("Adam", "AdamW", "Adam8bit", "AdamW8bit", "Adam32bit", "AdamW32bit", "PagedAdam",
              "PagedAdamW", "PagedAdam8bit", "PagedAdamW8bit", "PagedAdam32bit", "PagedAdamW32bit"):
    OPTIMIZERS[f"bitsandbytes.optim.{_name}"] = OptimizerSpec(2, 3)
# Hugging Face's own AdamW: eps defaults to 1e-6, not torch's 1e-8.
for _qn in ("transformers.AdamW", "transformers.optimization.AdamW"):
    OPTIMIZERS[_qn] = OptimizerSpec(2, 3, TORCH_BETAS, 1e-6)
# timm's factory: betas/eps are keywords passed on to the optimizer `opt=` names.
TIMM_FACTORIES = frozenset({"timm.optim.create_optimizer_v2", "timm.optim.optim_factory.create_optimizer_v2",
                            "timm.optim._optim_factory.create_optimizer_v2"})
TIMM_ADAM = frozenset({"adam", "adamw", "nadam", "nadamw", "radam", "adamax", "adamp",
                       "fusedadam", "fusedadamw"})

_GAN_WORDS = frozenset({"gan", "generator", "generators", "discriminator", "discriminators", "critic",
                        "gen", "disc", "dis", "netg", "netd", "g", "d"})
_GAN_CLASS_WORDS = frozenset({"gan", "generator", "discriminator", "critic"})
_NOT_GAN = frozenset({"organ", "morgan", "logan", "slogan", "vegan", "hogan", "reagan", "megan", "teagan",
                      "pagan"})


def adam_optimizer(ctx, call: cst.Call) -> Optional[Tuple[str, OptimizerSpec]]:
    """An Adam-family optimizer built by `call`: (its name, where its betas/eps are), or None."""
    qn = ctx.callee(call) or ""
    spec = OPTIMIZERS.get(qn)
    if spec is not None:
        return qn.rsplit(".", 1)[-1], spec
    if qn in TIMM_FACTORIES:
        opt = None
        for i, arg in enumerate(call.args):
            if (arg.keyword is not None and arg.keyword.value == "opt") or (arg.keyword is None and not arg.star and i == 1):
                opt = ctx.constants.value(arg.value)
        if isinstance(opt, str):
            name = opt.lower().split("_")[-1]
            if name in TIMM_ADAM:
                return f"create_optimizer_v2(opt={opt!r})", OptimizerSpec(None, None)
    return None


def trains_gan(ctx, site) -> bool:
    """The optimizer's parameters name a generator/discriminator/critic (`netG`,
    `generator.parameters()`, `D_A`), or the file is about a GAN: another
    optimizer there trains one, it defines or imports a Generator/Discriminator/
    Critic class, or its path names a GAN (`dcgan.py`, `wgan_gp/train.py`)."""
    return _params_name_gan(site.node) or ctx.fact("gan_file", _GanFile).value


def _params_argument(call: cst.Call) -> Optional[cst.BaseExpression]:
    """What an optimizer is handed to train: its first argument or `params=`."""
    if call.args and call.args[0].keyword is None:
        return call.args[0].value
    return next((a.value for a in call.args if a.keyword is not None and a.keyword.value in ("params", "model_params")),
                None)


def _params_name_gan(call: cst.Call) -> bool:
    params = _params_argument(call)
    if params is not None:
        for node in walk(params):
            if isinstance(node, cst.Name) and any(w in _GAN_WORDS for w in name_words(node.value)):
                return True
    return False


class _GanFile:
    def __init__(self, ctx) -> None:
        self.value = self._compute(ctx)

    @staticmethod
    def _compute(ctx) -> bool:
        # Another optimizer of the file trains a generator or discriminator: the
        # encoder of a BicycleGAN or MUNIT trains with the same recipe.
        for site in ctx.calls:
            if (ctx.callee(site.node) or "") in OPTIMIZERS and _params_name_gan(site.node):
                return True
        for definition in ctx.classes:
            if any(w in _GAN_CLASS_WORDS for w in name_words(definition.name)):
                return True
        for local in ctx.imports.names:
            if any(w in _GAN_CLASS_WORDS for w in name_words(local)):
                return True
        path = getattr(ctx, "path", None)
        if path is None:
            return False
        parts = [path.parent.name, path.stem]  # `dcgan/train.py`, `wgan_gp.py`; not the whole path
        return any(_is_gan_token(t) for part in parts for t in re.split(r"[^a-z0-9]+", part.lower()))


def _is_gan_token(token: str) -> bool:
    """`gan`, `dcgan`, `wgan`, `stylegan2`, `cyclegan`; not `organ`, `morgan`, `slogan`."""
    token = token.rstrip("0123456789")
    if token.endswith("s"):
        token = token[:-1]
    return token.endswith("gan") and len(token) <= 12 and token not in _NOT_GAN


# Environment and agent libraries: a file that imports one trains an agent.
_RL_PACKAGES = frozenset({
    "gym", "gymnasium", "envpool", "stable_baselines3", "sb3_contrib", "pettingzoo", "dm_control", "dm_env",
    "ale_py", "atari_py", "procgen", "minigrid", "gym_minigrid", "pybullet_envs", "d4rl", "mujoco_py",
    "vizdoom", "tianshou", "baselines",
})
_RL_NAME_WORDS = frozenset({"agent", "agents", "replay"})  # Base_Agent, ReplayBuffer, Replay_Buffer
_RL_PATH_TOKENS = frozenset({"rl", "agent", "agents", "dqn", "ddqn", "sac", "ppo", "td3", "ddpg", "a2c", "a3c",
                             "trpo", "rainbow", "reinforce"})


def trains_agent(ctx) -> bool:
    """The file is reinforcement-learning code: it imports an environment or
    agent library (`gym`, `gymnasium`, `envpool`, ...), defines or imports an
    agent or a replay buffer, or its folder or name says so (`sac_atari.py`,
    `actor_critic_agents/`)."""
    return ctx.fact("rl_file", _RlFile).value


class _RlFile:
    def __init__(self, ctx) -> None:
        self.value = self._compute(ctx)

    @staticmethod
    def _compute(ctx) -> bool:
        if ctx.imports.imports_package(_RL_PACKAGES):
            return True
        if any(w in _RL_NAME_WORDS for local in ctx.imports.names for w in name_words(local)):
            return True
        if any(any(w in _RL_NAME_WORDS for w in name_words(d.name)) for d in ctx.classes):
            return True
        path = getattr(ctx, "path", None)
        if path is None:
            return False
        parts = [path.parent.name, path.stem]
        return any(t in _RL_PATH_TOKENS for part in parts for t in re.split(r"[^a-z0-9]+", part.lower()))


_ARCHITECTURE_WORDS = frozenset({"alpha", "alphas", "arch", "architecture"})


def trains_architecture(site) -> bool:
    """The optimizer's parameters are a differentiable architecture search's
    architecture weights: `model.getAlphas()`, `model.arch_parameters()`,
    `self.alphas_normal` (DARTS trains them with Adam, betas (0.5, 0.999))."""
    params = _params_argument(site.node)
    if params is None:
        return False
    for node in walk(params):
        name = node.value if isinstance(node, cst.Name) else node.attr.value if isinstance(node, cst.Attribute) else None
        if name is not None and any(w in _ARCHITECTURE_WORDS for w in name_words(name)):
            return True
    return False
