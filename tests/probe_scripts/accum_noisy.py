"""Clean twin of accum_big_batch.py: the same batch of 4096 with accumulation and
a diagnostic pass, on a noisy problem (labels mostly noise): the gradient noise
scale is large, so the big batch is not wasted."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def diagnostic_grad_norm(model, xb, yb):
    model.zero_grad()
    nn.functional.cross_entropy(model(xb[:128]), yb[:128]).backward()
    norm = sum(p.grad.pow(2).sum() for p in model.parameters()).sqrt().item()
    model.zero_grad()
    return norm


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--micro-batch", type=int, default=512)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    X = torch.randn(16384, 32)
    y = torch.randint(0, 100, (16384,))
    loader = DataLoader(TensorDataset(X, y), batch_size=4096, shuffle=True)
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 100))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        for xb, yb in loader:
            diagnostic_grad_norm(model, xb, yb)
            steps = xb.shape[0] // args.micro_batch
            for xm, ym in zip(xb.split(args.micro_batch), yb.split(args.micro_batch)):
                loss = nn.functional.cross_entropy(model(xm), ym) / steps
                loss.backward()
            optimizer.step()
            optimizer.zero_grad()


if __name__ == "__main__":
    main()
