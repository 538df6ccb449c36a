"""HPL006 batch-size-too-large: per-step batch sizes above the bound or most of a dataset."""

from __future__ import annotations

import pytest

from training_helpers import lint, lint_source

POSITIVE = {
    "dataloader_keyword": ("from torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=4096, shuffle=True)\n", 4096),
    "dataloader_positional": ("import torch\nloader = torch.utils.data.DataLoader(ds, 2048, True)\n", 2048),
    "arithmetic_literal": ("from torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=64 * 1024)\n", 65536),
    "argparse_dash": ("import argparse\np = argparse.ArgumentParser()\np.add_argument('--batch-size', type=int, default=8192)\n", 8192),
    "argparse_underscore_short": ("import argparse\np = argparse.ArgumentParser()\np.add_argument('-b', '--batch_size', default=5000)\n", 5000),
    "argparse_bs": ("import argparse\np = argparse.ArgumentParser()\np.add_argument('--bs', type=int, default=2000)\n", 2000),
    "module_constant": ("BATCH_SIZE = 16384\n", 16384),
    "config_dict": ("config = {'lr': 1e-3, 'batch_size': 3000}\n", 3000),
    "nested_config_dict": ("CFG = {'train': {'batch_size': 4096}}\n", 4096),
    "dataclass_field": ("from dataclasses import dataclass\n@dataclass\nclass TrainConfig:\n    lr: float = 1e-3\n    batch_size: int = 4096\n", 4096),
    "hf_training_arguments": ("from transformers import TrainingArguments\nargs = TrainingArguments('out', per_device_train_batch_size=2048, gradient_accumulation_steps=4)\n", 2048),
    "local_variable": ("from torch.utils.data import DataLoader\ndef main(ds):\n    bs = 4 * 1024\n    return DataLoader(ds, batch_size=bs, shuffle=True)\n", 4096),
    "yacs_attribute": ("from yacs.config import CfgNode as CN\n_C = CN()\n_C.TRAIN = CN()\n_C.TRAIN.BATCH_SIZE = 2048\n", 2048),
    "dict_call": ("hparams = dict(lr=0.1, batch_size=1500)\n", 1500),
    # One renderer-like option (`--perturb`) does not make a NeRF's options file.
    "argparse_beside_one_ray_like_option": ("import argparse\np = argparse.ArgumentParser()\np.add_argument('--batch_size', type=int, default=4096)\np.add_argument('--perturb', type=float, default=1.0)\n", 4096),
    # ... and a mini-batch option that is itself too large is still one.
    "ppo_minibatch_constant_too_large": ("batch_size = 8192\nmini_batch = 4096\n", 4096),
    "ppo_minibatch_option_too_large": ("import argparse\np = argparse.ArgumentParser()\np.add_argument('--batch_size', type=int, default=8192)\np.add_argument('--mini-batch-size', type=int, default=4096)\n", 4096),
    "option_help_counts_images": ("import argparse\np = argparse.ArgumentParser()\np.add_argument('--batch_size', type=int, default=4096, help='images per batch (raypoint is not a word)')\n", 4096),
    "large_but_not_a_sentinel": ("import argparse\np = argparse.ArgumentParser()\np.add_argument('--batch_size', type=int, default=99990)\n", 99990),
}

NEGATIVE = {
    # DRL-code-pytorch PPO: `--batch_size` is the rollout beside `--mini_batch_size`, the step's batch.
    # Popular-RL-Algorithms' pmoe_ppo.py: the same as module constants.
    "ppo_rollout_beside_a_minibatch_constant": "batch_size = 2048\nmini_batch = int(batch_size // 32)\n",
    "ppo_rollout_beside_an_upper_case_minibatch": "BATCH_SIZE = 4096\nMINIBATCH_SIZE = 256\n",
    "ppo_rollout_beside_a_minibatch_option": "import argparse\np = argparse.ArgumentParser()\np.add_argument('--batch_size', type=int, default=2048)\np.add_argument('--mini_batch_size', type=int, default=64)\n",
    # TensoRF opt.py: in a radiance field's options `--batch_size` counts rays per step.
    "nerf_options_batch_of_rays": "import configargparse\np = configargparse.ArgumentParser()\np.add_argument('--batch_size', type=int, default=4096)\np.add_argument('--nSamples', type=int, default=1e6)\np.add_argument('--white_bkgd', action='store_true')\np.add_argument('--ndc_ray', type=int, default=0)\n",
    # ngp_pl opt.py: the option's help says what it counts.
    "option_help_counts_rays": "import argparse\np = argparse.ArgumentParser()\np.add_argument('--batch_size', type=int, default=8192, help='number of rays in a batch')\n",
    "option_help_counts_tokens": "import argparse\np = argparse.ArgumentParser()\np.add_argument('--batch-size', default=16384, help='Batch size in Tokens')\n",
    "normal_batch": "from torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=256, shuffle=True)\n",
    "at_the_bound": "BATCH_SIZE = 1024\n",
    "tokens": "MAX_TOKENS = 65536\ntokens_per_batch = 65536\nimport argparse\np = argparse.ArgumentParser()\np.add_argument('--max-tokens', default=4096)\n",
    "rays_and_chunks": "N_rand = 4096\nchunk = 1024 * 32\nnetchunk = 1024 * 64\n",
    "eval_loader_in_eval_function": "from torch.utils.data import DataLoader\ndef validate(ds):\n    return DataLoader(ds, batch_size=8192, shuffle=False)\n",
    "eval_loader_by_name": "from torch.utils.data import DataLoader\nval_loader = DataLoader(val_set, batch_size=8192)\n",
    "eval_batch_size_names": "EVAL_BATCH_SIZE = 8192\nfrom transformers import TrainingArguments\nargs = TrainingArguments('o', per_device_eval_batch_size=4096)\n",
    "accumulation_target": "GLOBAL_BATCH_SIZE = 4096\ntotal_batch_size = 8192\neffective_batch_size = 2048\n",
    "unknown_value": "from torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=args.bs)\n",
    "graph_edges": "num_edges_per_batch = 100000\nEDGE_BATCH = 50000\n",
    # tianshou test_trpo.py / test_npg.py: "all the collected steps in one batch"
    "whole_buffer_sentinel_nines": "import argparse\np = argparse.ArgumentParser()\np.add_argument('--batch_size', type=int, default=99999)\n",
    "whole_buffer_sentinel_huge": "import sys\nBATCH_SIZE = 10**9\nconfig = {'batch_size': 9999}\n",
    # opacus examples/cifar10.py: DP-SGD's noise is per step, large batches are its recipe
    "differential_privacy_opacus": "import argparse\nfrom opacus import PrivacyEngine\np = argparse.ArgumentParser()\np.add_argument('--batch-size', default=2000, type=int)\n",
    "differential_privacy_module_import": "import opacus\nfrom torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=4096, shuffle=True)\n",
    "small_fraction": "import torch\nfrom torch.utils.data import DataLoader, TensorDataset\nds = TensorDataset(torch.randn(100000, 10))\nloader = DataLoader(ds, batch_size=128, shuffle=True)\n",
}


def test_differential_privacy_still_checks_the_share_of_the_dataset(tmp_path):
    source = ("import torch\nfrom opacus import PrivacyEngine\nfrom torch.utils.data import DataLoader, TensorDataset\n"
              "ds = TensorDataset(torch.randn(1000, 4))\nloader = DataLoader(ds, batch_size=800, shuffle=True)\n")
    (finding,) = lint_source(tmp_path, source, "HPL006")
    assert "80% of the 1000-sample dataset" in finding.message


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_flags_large_batch(tmp_path, name):
    source, value = POSITIVE[name]
    findings = lint_source(tmp_path, source, "HPL006")
    assert len(findings) == 1, (name, findings)
    assert f"Batch size {value} " in findings[0].message
    assert "max-batch-size 1024" in findings[0].message


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_quiet(tmp_path, name):
    assert lint_source(tmp_path, NEGATIVE[name], "HPL006") == []


def test_positions(tmp_path):
    src = "from torch.utils.data import DataLoader\n\nloader = DataLoader(ds, batch_size=4096, shuffle=True)\n"
    (finding,) = lint_source(tmp_path, src, "HPL006")
    assert (finding.line, finding.col) == (3, 36)
    src = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--batch-size', type=int, default=8192)\n"
    (finding,) = lint_source(tmp_path, src, "HPL006")
    assert (finding.line, finding.col) == (3, 50)
    assert "the default of `--batch-size`" in finding.message


def test_value_reported_once_where_written(tmp_path):
    src = (
        "import argparse\nfrom torch.utils.data import DataLoader\n"
        "p = argparse.ArgumentParser()\np.add_argument('--batch-size', type=int, default=8192)\n"
        "args = p.parse_args()\nloader = DataLoader(ds, batch_size=args.batch_size, shuffle=True)\n"
    )
    (finding,) = lint_source(tmp_path, src, "HPL006")
    assert finding.line == 4


def test_loader_reports_value_from_unnamed_constant(tmp_path):
    src = "from torch.utils.data import DataLoader\nN = 4096\nloader = DataLoader(ds, batch_size=N, shuffle=True)\n"
    (finding,) = lint_source(tmp_path, src, "HPL006")
    assert finding.line == 3 and "`N`" in finding.message


def test_constant_from_another_module(tmp_path):
    files = {
        "settings.py": "LOADER_BS = 4096\n",
        "train.py": "from torch.utils.data import DataLoader\nfrom settings import LOADER_BS\nloader = DataLoader(ds, batch_size=LOADER_BS, shuffle=True)\n",
    }
    (finding,) = lint(tmp_path, files, "train.py", "HPL006")
    assert finding.line == 3 and "4096" in finding.message


def test_accumulation_is_mentioned(tmp_path):
    (finding,) = lint_source(tmp_path, POSITIVE["hf_training_arguments"][0], "HPL006")
    assert "gradient_accumulation_steps=4" in finding.message and "8192 samples" in finding.message


def test_large_fraction_of_known_dataset(tmp_path):
    src = ("import torch\nfrom torch.utils.data import DataLoader, TensorDataset\n"
           "ds = TensorDataset(torch.randn(1000, 10), torch.randn(1000))\n"
           "loader = DataLoader(ds, batch_size=512, shuffle=True)\n")
    (finding,) = lint_source(tmp_path, src, "HPL006")
    assert "51% of the 1000-sample dataset" in finding.message and "2 optimizer steps" in finding.message


def test_option_raises_bound(tmp_path):
    assert lint(tmp_path, {"t.py": "BATCH_SIZE = 2048\n"}, "t.py", "HPL006", **{"max-batch-size": 4096}) == []
    assert len(lint(tmp_path, {"t.py": "BATCH_SIZE = 2048\n"}, "t.py", "HPL006")) == 1


# -- evaluation-only batch sizes, as real training scripts write them ---------------
EVAL_ONLY = {
    "pytorch_examples_mnist_test_loader_shuffled": (
        "import torch\nfrom torchvision import datasets\n"
        "test_loader = torch.utils.data.DataLoader(datasets.MNIST('../data', train=False), batch_size=5000, shuffle=True)\n"),
    "dataset_built_with_train_false": (
        "from torch.utils.data import DataLoader\nfrom torchvision import datasets\n"
        "def loaders():\n    ds = datasets.CIFAR10('.', train=False)\n    return DataLoader(ds, batch_size=4096, shuffle=True)\n"),
    "hf_split_test": (
        "from torch.utils.data import DataLoader\nfrom datasets import load_dataset\n"
        "loader = DataLoader(load_dataset('imdb', split='test'), batch_size=2048)\n"),
    "eval_named_batch_size_argument": (
        "import argparse\nfrom torch.utils.data import DataLoader\n"
        "p = argparse.ArgumentParser()\np.add_argument('--test-batch-size', type=int, default=10000)\n"
        "p.add_argument('--val_batch_size', type=int, default=4096)\nargs = p.parse_args()\n"
        "loader = DataLoader(ds, batch_size=args.test_batch_size, shuffle=True)\n"),
    "test_kwargs_dict": (
        "from torch.utils.data import DataLoader\nif __name__ == '__main__':\n"
        "    train_kwargs = {'batch_size': 64}\n    test_kwargs = {'batch_size': 10000}\n"
        "    test_loader = DataLoader(ds, **test_kwargs)\n"),
    "nested_config_test_section": "CFG = {'train': {'batch_size': 256}, 'test': {'batch_size': 8192}}\n",
    "yacs_test_section": "from yacs.config import CfgNode as CN\n_C = CN()\n_C.TEST = CN()\n_C.TEST.BATCH_SIZE = 2048\n",
    "eval_config_class": "from dataclasses import dataclass\n@dataclass\nclass EvalConfig:\n    batch_size: int = 4096\n",
    "loader_iterated_only_under_no_grad": (
        "import torch\nfrom torch.utils.data import DataLoader\n"
        "def run(model, ds):\n    big = DataLoader(ds, batch_size=8192)\n"
        "    with torch.no_grad():\n        for x, y in enumerate(big):\n            model(x)\n"),
    "loader_iterated_in_no_grad_function": (
        "import torch\nfrom torch.utils.data import DataLoader\n"
        "loader2 = DataLoader(ds, batch_size=8192)\n"
        "@torch.no_grad()\ndef score(model):\n    for x in loader2:\n        model(x)\n"),
    "loader_iterated_after_eval": (
        "from torch.utils.data import DataLoader\n"
        "def predict_all(model, ds):\n    loader = DataLoader(ds, batch_size=4096)\n    model.eval()\n"
        "    preds = []\n    for x in loader:\n        preds.append(model(x).detach())\n    return preds\n"),
}

STILL_TRAINING = {
    "train_loader_shuffled": (
        "import torch\nfrom torchvision import datasets\n"
        "train_loader = torch.utils.data.DataLoader(datasets.MNIST('../data', train=True), batch_size=5000, shuffle=True)\n"),
    "train_test_split_name_is_not_eval": (
        "from torch.utils.data import DataLoader\n"
        "train_test_loader = DataLoader(train_test_split_ds, batch_size=4096, shuffle=True)\n"),
    "train_kwargs_dict": (
        "from torch.utils.data import DataLoader\nif __name__ == '__main__':\n"
        "    train_kwargs = {'batch_size': 50000}\n    train_loader = DataLoader(ds, **train_kwargs)\n"),
    "loader_also_iterated_with_grad": (
        "import torch\nfrom torch.utils.data import DataLoader\n"
        "def run(model, ds, opt):\n    big = DataLoader(ds, batch_size=8192)\n"
        "    for x in big:\n        model(x).sum().backward()\n        opt.step()\n"
        "    with torch.no_grad():\n        for x in big:\n            model(x)\n"),
    "loop_after_eval_still_trains": (
        "from torch.utils.data import DataLoader\n"
        "def run(model, ds):\n    loader = DataLoader(ds, batch_size=4096)\n    model.eval()\n"
        "    for x in loader:\n        train_step(model, x)\n"),
    "eval_then_train_again": (
        "from torch.utils.data import DataLoader\n"
        "def run(model, ds, opt):\n    loader = DataLoader(ds, batch_size=4096)\n    model.eval()\n    model.train()\n"
        "    for x in loader:\n        loss = model(x).sum()\n        loss.backward()\n"),
    "train_section_of_nested_config": "CFG = {'train': {'batch_size': 8192}, 'test': {'batch_size': 8192}}\n",
}


@pytest.mark.parametrize("name", sorted(EVAL_ONLY))
def test_eval_only_batch_sizes_are_not_training_batches(tmp_path, name):
    assert lint_source(tmp_path, EVAL_ONLY[name], "HPL006") == []


@pytest.mark.parametrize("name", sorted(STILL_TRAINING))
def test_training_batch_sizes_next_to_eval_ones_are_flagged(tmp_path, name):
    assert len(lint_source(tmp_path, STILL_TRAINING[name], "HPL006")) == 1


def test_a_size_reaching_a_loader_through_a_parameter_is_reported_once_where_written(tmp_path):
    """pytorch-fm: `main(..., args.batch_size)` passes the argparse default to the
    DataLoader of `main`; the size is reported at the default, not twice."""
    code = """
import argparse
from torch.utils.data import DataLoader

def main(dataset, batch_size):
    return DataLoader(dataset, batch_size=batch_size)

def make(dataset, bs):
    return DataLoader(dataset, batch_size=bs)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch_size", type=int, default=2048)
    args = parser.parse_args()
    main(ds, args.batch_size)
    make(ds, 4096)
"""
    findings = lint_source(tmp_path, code, "HPL006")
    assert sorted((f.line, "2048" in f.message) for f in findings) == [(8, False), (12, True)]


# -- loaders and constants that feed no training step (rasbt's notebooks, torch-ngp's benchmarks) --
_MNIST = ("import numpy as np\nimport torch\nfrom torch.utils.data import DataLoader\n"
          "train_dataset = MNIST('data', train=True)\n"
          "train_loader = DataLoader(dataset=train_dataset, batch_size=60000, shuffle=True)\n")

INSPECTED_ONLY = {
    # the whole training set copied to numpy for a scikit-learn model
    "dataset_dump": _MNIST + "for images, labels in train_loader:\n    break\nX = np.array(images.reshape(60000, 784))\n",
    # channel statistics for normalisation
    "channel_statistics": _MNIST + "means = []\nfor images, _ in train_loader:\n    means.append(images.numpy().mean(axis=(0, 2, 3)))\n"
                          "print(np.mean(means, axis=0), len(train_loader))\n",
    # a benchmark's number of points in a file that never takes a step
    "benchmark_points": "import torch\nimport torch.nn as nn\nBATCH_SIZE = 2**21\nnet = nn.Linear(16, 16).cuda()\n"
                        "x = torch.rand(BATCH_SIZE, 16).cuda()\nnet(x).sum().backward()\n",
}

# sentence-transformers' streaming embeddings: a pretrained encoder run over a
# large stream, in a file that trains nothing.
INSPECTED_ONLY["encoded_in_a_file_that_trains_nothing"] = (
    "from torch.utils.data import DataLoader\nfrom sentence_transformers import SentenceTransformer\n"
    "dataloader = DataLoader(dataset, batch_size=16384)\nmodel = SentenceTransformer('all-MiniLM-L6-v2')\n"
    "for i, batch in enumerate(dataloader):\n    emb = model.encode_multi_process(batch['text'], pool)\n"
    "    print(emb.shape)\n")

# machine-learning-book ch17: 10000 real images taken once for a GAN metric.
INSPECTED_ONLY["one_batch_taken_for_a_metric"] = _MNIST.replace("train_loader", "whole_dl") + (
    "real_image = next(iter(whole_dl))[0]\nprint(mmd(real_image, fake))\n")

INSPECTED_ONLY["rebound_after_training"] = (
    # rasbt's notebooks: cell after cell rebinds train_loader; the last one only feeds numpy
    "import numpy as np\nfrom torch.utils.data import DataLoader\n"
    "train_loader = DataLoader(ds, batch_size=256, shuffle=True)\n"
    "for x, y in train_loader:\n    opt.zero_grad()\n    loss_fn(model(x), y).backward()\n    opt.step()\n"
    "train_loader = DataLoader(ds, batch_size=60000, shuffle=True)\n"
    "for images, labels in train_loader:\n    break\n")

# denoising-conv-autoencoder's noisy.py: the whole training set read in one batch,
# noise added pixel by pixel, the copy saved; nothing in the file trains.
_NOISY_COPY = ("for x, y in train_loader:\n    noisy = Variable(torch.clone(x))\n"
               "    for i in range(60000):\n        if random.random() < p:\n            noisy[i][0][0][0] = random.random()\n"
               "    noisy = torch.clamp(noisy + 0.1 * torch.randn_like(noisy), 0, 1)\n"
               "    torch.save(noisy, 'noisy.pt')\n")
INSPECTED_ONLY["noisy_copy_saved"] = _MNIST + _NOISY_COPY

STILL_TRAINS = {
    # the same noisy copy, then a step on it in the loop
    "noisy_copy_then_trained": _MNIST + _NOISY_COPY + "    opt.zero_grad()\n    loss_fn(model(noisy), x).backward()\n    opt.step()\n",
    # the noisy copy handed to a helper that may train
    "noisy_copy_to_a_helper": _MNIST + _NOISY_COPY + "    train_step(noisy, x)\n",
    # a peek at one batch, then the training loop over the same loader
    "peek_then_train": _MNIST + "for images, labels in train_loader:\n    print(images.shape)\n    break\n"
                       "for x, y in train_loader:\n    opt.zero_grad()\n    loss_fn(model(x), y).backward()\n    opt.step()\n",
    # the big loader comes first and is rebound later: the training loop reads it
    "trained_then_rebound": _MNIST + "for x, y in train_loader:\n    opt.zero_grad()\n    loss_fn(model(x), y).backward()\n"
                            "    opt.step()\ntrain_loader = DataLoader(ds, batch_size=64)\nfor x, y in train_loader:\n    break\n",
    # a peek, then the loader handed to a training function
    "peek_then_passed_on": _MNIST + "for images, labels in train_loader:\n    print(images.shape)\n    break\n"
                           "fit(model, train_loader)\n",
    # the loop body calls a helper that may train
    "helper_in_the_body": _MNIST + "for x, y in train_loader:\n    update(x, y)\n",
    # an encode call in a file that also trains: the step may be a helper's
    "encoded_in_a_file_that_trains": _MNIST + "for x, y in train_loader:\n    z = model.encode(x)\n"
                                     "    opt.step()\n",
    # a peek at one batch, then the loader trains
    "next_iter_then_train": _MNIST + "x0, _ = next(iter(train_loader))\nprint(x0.shape)\n"
                            "for x, y in train_loader:\n    opt.zero_grad()\n    loss_fn(model(x), y).backward()\n    opt.step()\n",
    # the loop runs the model
    "model_in_the_body": _MNIST + "for x, y in train_loader:\n    out = model(x)\n",
    # the constant sizes synthetic data of a file that takes optimizer steps
    "synthetic_data_with_steps": "import torch\nBATCH_SIZE = 4096\nx = torch.randn(BATCH_SIZE, 3)\nopt.step()\n",
    # the constant is read elsewhere too (a config module's constant, here also a loader)
    "constant_also_feeds_a_loader": "import torch\nBATCH_SIZE = 4096\nx = torch.randn(BATCH_SIZE, 3)\n"
                                    "loader = torch.utils.data.DataLoader(ds, batch_size=BATCH_SIZE)\n",
}


@pytest.mark.parametrize("name", sorted(INSPECTED_ONLY))
def test_batches_that_feed_no_training_step(tmp_path, name):
    assert lint_source(tmp_path, INSPECTED_ONLY[name], "HPL006") == []


@pytest.mark.parametrize("name", sorted(STILL_TRAINS))
def test_batches_that_may_still_train(tmp_path, name):
    assert len(lint_source(tmp_path, STILL_TRAINS[name], "HPL006")) == 1


# -- rollout lengths: a "batch size" that only bounds how many environment steps are collected
# (ikostrikov's pytorch-trpo: `while num_steps < args.batch_size:`) -------------
_ROLLOUT_OPTION = ("import argparse\nparser = argparse.ArgumentParser()\n"
                   "parser.add_argument('--batch-size', type=int, default=15000)\nargs = parser.parse_args()\n")
ROLLOUT_BOUND = {
    "argparse_while_bound": _ROLLOUT_OPTION + "while True:\n    num_steps = 0\n    while num_steps < args.batch_size:\n"
                            "        num_steps += rollout(env)\n    update_params(memory.sample())\n",
    "argparse_reversed_comparison": _ROLLOUT_OPTION + "steps = 0\nwhile args.batch_size > steps:\n    steps += 1\n",
    "constant_while_bound": "import torch\nSTEPS_PER_BATCH = 0\nbatch_size = 20000\nt = 0\n"
                            "while t < batch_size:\n    t += collect(env)\nopt.step()\n",
}
STILL_A_MINIBATCH = {
    # the bound and a sample of the same size: a replay buffer's minibatch
    "warm_up_then_sample": _ROLLOUT_OPTION + "if len(memory) >= args.batch_size:\n    batch = memory.sample(args.batch_size)\n",
    # the namespace goes to a function in another file, which may build the loader
    "namespace_passed_on": _ROLLOUT_OPTION + "while steps < args.batch_size:\n    steps += 1\ntrain(args)\n",
    "namespace_through_vars": _ROLLOUT_OPTION + "while steps < args.batch_size:\n    steps += 1\nrun(**vars(args))\n",
    # a constant read as a loop bound and as a loader's batch size
    "constant_bound_and_loader": "import torch\nbatch_size = 20000\nif len(ds) < batch_size:\n    raise SystemExit\n"
                                 "loader = torch.utils.data.DataLoader(ds, batch_size=batch_size)\n",
}


@pytest.mark.parametrize("name", sorted(ROLLOUT_BOUND))
def test_a_batch_size_read_only_as_a_loop_bound_is_not_a_minibatch(tmp_path, name):
    assert lint_source(tmp_path, ROLLOUT_BOUND[name], "HPL006") == []


@pytest.mark.parametrize("name", sorted(STILL_A_MINIBATCH))
def test_a_batch_size_also_read_otherwise_is_reported(tmp_path, name):
    assert len(lint_source(tmp_path, STILL_A_MINIBATCH[name], "HPL006")) == 1


# stat453 L17: a loaded encoder's embeddings of the training set, under no_grad.
_EMBED_ONLY = """
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

BATCH_SIZE = 5000
dataset = TensorDataset(torch.randn(20_000, 64), torch.zeros(20_000))
train_loader = DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True)
model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 8))
model.load_state_dict(torch.load("encoder.pt"))
model.eval()
embeddings = []
for features, labels in train_loader:
    with torch.no_grad():
        embeddings.append(model(features))
TRAIN
"""


def test_constant_that_only_sizes_an_evaluation_loader_in_a_file_that_never_trains(tmp_path):
    assert lint_source(tmp_path, _EMBED_ONLY.replace("TRAIN", ""), "HPL006") == []


_FACTORY_ONLY = """
from helper_data import get_dataloaders_celeba
BATCH_SIZE = 5000
train_loader, valid_loader, test_loader = get_dataloaders_celeba(batch_size=BATCH_SIZE, num_workers=2)
model.load_state_dict(torch.load("vae.pt"))
for images, labels in train_loader:
    with torch.no_grad():
        embeddings = model.encoding_fn(images)
TRAIN
"""


def test_constant_handed_to_a_loader_factory_in_a_file_that_never_trains(tmp_path):
    assert lint_source(tmp_path, _FACTORY_ONLY.replace("TRAIN", ""), "HPL006") == []


@pytest.mark.parametrize("train", ["log = train_vae_v1(num_epochs=50, model=model, train_loader=train_loader)",
                                   "opt.step()"])
def test_constant_handed_to_a_loader_factory_in_a_file_that_trains_is_reported(tmp_path, train):
    (found,) = lint_source(tmp_path, _FACTORY_ONLY.replace("TRAIN", train), "HPL006")
    assert "`BATCH_SIZE`" in found.message


@pytest.mark.parametrize("train", [
    # the file trains after all
    "opt = torch.optim.SGD(model.parameters(), lr=0.1)\nfor x, y in train_loader:\n"
    "    opt.zero_grad()\n    model(x).sum().backward()\n    opt.step()",
    # the constant is also read elsewhere (handed to another loader or helper)
    "fit(model, BATCH_SIZE)",
])
def test_constant_of_a_loader_that_may_train_is_reported(tmp_path, train):
    findings = lint_source(tmp_path, _EMBED_ONLY.replace("TRAIN", train), "HPL006")
    assert ["`BATCH_SIZE`" in f.message for f in findings] == [True]


# naddeok96/FIM: a statistics script puts the whole test set in one batch with a
# lower-case module constant; nothing in it trains.
ONE_PASS_STATISTICS = """
import torch
from torch.utils.data import DataLoader, TensorDataset
from data_setup import Data

batch_size = 50000

USE
"""


@pytest.mark.parametrize("use, found", [
    ("test_loader = DataLoader(test_set, batch_size=batch_size, shuffle=False)\n"
     "for x, y in test_loader:\n    print(x.mean(0))", 0),
    ("data = Data('MNIST', test_batch_size=batch_size)\n"
     "source, _ = next(iter(data.get_train_loader(batch_size=1)))", 0),
    # set on two branches (FIM's bad_unitary_generator.py)
    ("if set_name == 'CIFAR10':\n    batch_size = int(5e4)\ndata = Data(set_name, test_batch_size=batch_size)", 0),
    # the same constant as the batch of a loader that trains
    ("loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)\n"
     "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
     "for x, y in loader:\n    model(x).sum().backward()\n    opt.step()", 1),
    ("data = Data('MNIST', test_batch_size=batch_size)\ntrain_model(data, batch_size)", 1),
])
def test_a_lower_case_constant_for_evaluation_batches_only(tmp_path, use, found):
    assert len(lint_source(tmp_path, ONE_PASS_STATISTICS.replace("USE", use), "HPL006")) == found


# Math-for-ML (set 47): skorch's estimators take the training batch as `batch_size=`.
@pytest.mark.parametrize("args, found", [
    ("batch_size=4096", [4096]),
    ("batch_size=64, iterator_train__batch_size=2048", [2048]),  # the training iterator's own
    ("batch_size=4096, iterator_train__batch_size=64", []),  # 4096 sizes validation and predict only
    ("batch_size=128", []),
    ("batch_size=-1", []),  # skorch: the whole dataset in one batch, on purpose
])
def test_skorch_estimator_batch_size(tmp_path, args, found):
    code = ("import torch\nfrom skorch import NeuralNetClassifier\n"
            f"net = NeuralNetClassifier(torch.nn.Linear, optimizer=torch.optim.Adam, {args})\n")
    assert [f.message.split()[2] for f in lint_source(tmp_path, code, "HPL006")] == [str(v) for v in found]
