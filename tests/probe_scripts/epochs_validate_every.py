"""HPL010 positive, shaped like a real script: train() once before the epochs,
validation every --eval-every epochs calls eval(), and the next epoch trains
on in eval mode (dropout off, BatchNorm frozen)."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def validate(model, loader):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for xb, yb in loader:
            total += nn.functional.cross_entropy(model(xb), yb, reduction="sum").item()
    return total / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    X = torch.randn(2048, 10)
    y = (X[:, 0] > 0).long()
    train_loader = DataLoader(TensorDataset(X, y), batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(TensorDataset(X[:256], y[:256]), batch_size=128)
    model = nn.Sequential(nn.Linear(10, 32, bias=False), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    for epoch in range(args.epochs):
        for xb, yb in train_loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            optimizer.step()
        if (epoch + 1) % args.eval_every == 0:
            print(f"epoch {epoch} val loss {validate(model, val_loader):.3f}")


if __name__ == "__main__":
    main()
