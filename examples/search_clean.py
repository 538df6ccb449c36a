"""Learning rates and momenta searched on a log scale, in several libraries'
spellings: nothing here is reported."""
import random

import numpy as np
from hyperopt import hp
from ray import tune


def optuna_space(trial):
    return {
        "lr": trial.suggest_float("lr", 1e-5, 1e-1, log=True),
        # β near 1: sample 1 - β on a log scale.
        "momentum": 1 - trial.suggest_float("one_minus_momentum", 1e-3, 1e-1, log=True),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
    }


RAY_SPACE = {
    "lr": tune.loguniform(1e-5, 1e-1),
    "beta2": tune.sample_from(lambda _: 1 - 10 ** np.random.uniform(-4, -2)),
}

HYPEROPT_SPACE = {
    "learning_rate": hp.loguniform("learning_rate", np.log(1e-5), np.log(1e-1)),
}

WANDB_SWEEP = {
    "method": "random",
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
        "batch_size": {"values": [32, 64, 128]},
    },
}


def random_search(n_trials=20):
    trials = []
    for _ in range(n_trials):
        lr = 10 ** random.uniform(-5, -1)
        beta1 = 1 - 10 ** random.uniform(-2, -1)
        trials.append({"lr": lr, "betas": (beta1, 0.999)})
    return trials


LR_GRID = np.geomspace(1e-5, 1e-1, num=9)
