"""HPL006 positive, shaped like a real script: a DataLoader batch of 4096 on an
easy, nearly noise-free problem, split into micro-batches of 512 for gradient
accumulation, and a diagnostic gradient-norm pass on a 128-sample slice whose
gradients are discarded (zero_grad before the real step). The step's batch is
4096: the whole effective batch, not the micro-batch, not the slice."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def diagnostic_grad_norm(model, xb, yb):
    model.zero_grad()
    nn.functional.mse_loss(model(xb[:128]), yb[:128]).backward()
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
    w = torch.randn(32, 1)
    y = X @ w + 0.01 * torch.randn(16384, 1)
    loader = DataLoader(TensorDataset(X, y), batch_size=4096, shuffle=True)
    model = nn.Linear(32, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        for xb, yb in loader:
            diagnostic_grad_norm(model, xb, yb)
            steps = xb.shape[0] // args.micro_batch
            for xm, ym in zip(xb.split(args.micro_batch), yb.split(args.micro_batch)):
                loss = nn.functional.mse_loss(model(xm), ym) / steps
                loss.backward()
            optimizer.step()
            optimizer.zero_grad()


if __name__ == "__main__":
    main()
