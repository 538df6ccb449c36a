"""Tabular classifier trained with a huge batch (HPL006)."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser()
parser.add_argument("--batch-size", type=int, default=16384)
parser.add_argument("--lr", type=float, default=1e-3)
args = parser.parse_args()

data = TensorDataset(torch.randn(1000, 20), torch.randint(0, 2, (1000,)))
loader = DataLoader(data, batch_size=args.batch_size, shuffle=True)
small = DataLoader(data, batch_size=512, shuffle=True)

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))
opt = torch.optim.SGD(model.parameters(), lr=args.lr)
for x, y in loader:
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
