"""The probe's step accounting, in process on tiny torch objects (no patches
installed, no child process): the batch of an optimizer step is the samples
whose gradients were accumulated since the last zero_grad."""

from __future__ import annotations

import pytest

import needs

needs.module("torch", "make venv installs the CPU build")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from hplint.probe.instrument import Recorder  # noqa: E402


@pytest.fixture
def setup():
    torch.manual_seed(0)
    rec = Recorder({"steps": 100, "batches_per_loader": 1, "targets": []})
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    rec.on_optimizer(opt)
    return rec, model, opt


def forward_backward(rec, model, n, scale=1.0):
    x = torch.randn(n, 4)
    rec._global_pre(model, (x,))  # what the global module hooks see
    out = model(x)
    rec._global_post(model, (x,), {}, out)
    loss = out.pow(2).mean() * scale
    rec.on_backward(loss)
    loss.backward()


def step(rec, opt):
    rec.pre_step(opt, (), {})
    opt.step()
    rec.post_step(opt, (), {})


def test_accumulation_counts_the_effective_batch(setup):
    rec, model, opt = setup
    for _ in range(2):
        opt.zero_grad()
        rec.on_zero_grad()
        for _ in range(8):  # 8 micro-batches of 512
            forward_backward(rec, model, 512, 1 / 8)
        step(rec, opt)
    assert rec.step_batches == [4096, 4096] and rec.step_backwards == [8, 8]


def test_discarded_passes_do_not_count(setup):
    rec, model, opt = setup
    rec.on_zero_grad()
    forward_backward(rec, model, 128)  # a diagnostic pass ...
    rec.on_zero_grad()  # ... whose gradients are thrown away
    for _ in range(4):  # a per-sample loop, discarded too
        forward_backward(rec, model, 1)
        rec.on_zero_grad()
    forward_backward(rec, model, 256)
    step(rec, opt)
    assert rec.step_batches == [256] and rec.step_backwards == [1]


def test_nested_forwards_count_the_outermost_and_the_loss_batch_is_a_fallback(setup):
    rec, model, opt = setup
    rec.on_zero_grad()
    x = torch.randn(32, 4)
    rec._global_pre(model, (x,))
    rec._global_pre(model, (x.reshape(64, 2),))  # an inner module on a reshaped input: not the batch
    rec._global_post(model, (), {}, None)
    rec._global_post(model, (), {}, None)
    loss = model(x).sum()
    rec.on_backward(loss)
    loss.backward()
    rec._loss_batch = 16  # no module forward seen: what the loss function was given
    loss = model(x[:16]).sum()
    rec.on_backward(loss)
    loss.backward()
    step(rec, opt)
    assert rec.step_batches == [48]


def test_no_zero_grad_but_grads_set_to_none_by_hand(setup):
    rec, model, opt = setup
    for _ in range(2):
        for p in model.parameters():
            p.grad = None
        forward_backward(rec, model, 64)
        step(rec, opt)
    assert rec.step_batches == [64, 64]


def test_step_loss_sums_the_micro_batch_losses(setup):
    rec, model, opt = setup
    rec.on_zero_grad()
    for value in (0.25, 0.5):
        loss = (model(torch.zeros(2, 4)) * 0).sum() + value
        rec.on_backward(loss)
        loss.backward()
    step(rec, opt)
    assert float(rec.losses[0]) == pytest.approx(0.75)


def test_keyword_only_forward_gives_the_batch_from_its_keywords(setup):
    """model(**batch), as Hugging Face Trainer calls it: the global pre-hook sees
    no arguments, the post-hook (with keywords) reads the batch before backward."""
    rec, model, opt = setup
    rec.on_zero_grad()
    for _ in range(2):
        x = torch.randn(8, 4)
        rec._global_pre(model, ())
        out = model(x)
        rec._global_post(model, (), {"x": x, "labels": torch.zeros(8)}, out)
        loss = out.sum()
        rec._loss_batch = 8 * 200  # what the loss function saw: tokens, not samples
        rec.on_backward(loss)
        loss.backward()
    step(rec, opt)
    assert rec.step_batches == [16]


def test_clip_with_an_infinite_bound_only_measures(setup):
    """Hugging Face Trainer with max_grad_norm=0 logs the norm through
    clip_grad_norm_(params, inf): nothing is clipped, so no clipping is counted."""
    rec, model, opt = setup
    clip = rec.wrap_clip(torch.nn.utils.clip_grad_norm_, "clip_grad_norm_")
    forward_backward(rec, model, 4, scale=100.0)
    clip(model.parameters(), float("inf"))
    assert rec.clip_calls == [] and rec._preclip is None
    clip(model.parameters(), max_norm=1e-3)
    assert [c["bound"] for c in rec.clip_calls] == [1e-3] and rec._preclip is not None


def test_clipping_every_micro_batch_measures_the_last_clip_of_the_step(setup):
    """accelerator.clip_grad_norm_ outside `if accelerator.sync_gradients` clips
    each micro-batch's partial sum: the step's pre-clip norm is the one the last
    clip saw (all micro-batches in), not the first micro-batch's alone."""
    rec, model, opt = setup
    clip = rec.wrap_clip(torch.nn.utils.clip_grad_norm_, "clip_grad_norm_")
    rec.on_zero_grad()
    norms = []
    for _ in range(3):
        forward_backward(rec, model, 8, scale=10.0)
        norms.append(float(torch.nn.utils.get_total_norm([p.grad for p in model.parameters()])))
        clip(model.parameters(), 1e6)  # a bound nothing reaches: the gradients stay as they are
    step(rec, opt)
    assert float(rec.grad_norms[0]) == pytest.approx(norms[-1]) and norms[-1] != pytest.approx(norms[0])
    assert len(rec.clip_calls) == 3 and rec.step_batches == [24]
