"""HPL007: Adam's eps raised far above its default (a value copied from a
TensorFlow recipe, meant for a loss scale the script does not have). With
eps >> sqrt(v), Adam's step shrinks to lr * m / eps: the weights barely move.
`--eps 1e-8` is the clean twin (the default)."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--lr", type=float, default=1e-4)
parser.add_argument("--eps", type=float, default=10.0)
args = parser.parse_args()

torch.manual_seed(0)
torch.set_num_threads(1)
X = torch.randn(512, 16)
y = (X[:, 0] - X[:, 1] > 0).long()
train = DataLoader(TensorDataset(X[:448], y[:448]), batch_size=32, shuffle=True)
test = DataLoader(TensorDataset(X[448:], y[448:]), batch_size=64)

model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, eps=args.eps)

for epoch in range(args.epochs):
    model.train()
    for xb, yb in train:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        optimizer.step()

model.eval()
with torch.no_grad():
    correct = sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in test)
print(f"accuracy {correct / 64:.2f}")
