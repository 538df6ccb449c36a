"""A tiny classifier with the classic mistake HPL001 catches: Dropout feeding
BatchNorm. `hplint check` flags it; `hplint probe examples/probe_demo.py
--steps 20 --device cpu` trains it for 20 steps and measures the variance
shift the dropout causes in the BatchNorm's statistics."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
inputs = torch.randn(2048, 20)
labels = (inputs[:, :3].sum(1) > 0).long() + (inputs[:, 3] > 1).long()
loader = DataLoader(TensorDataset(inputs, labels), batch_size=64, shuffle=True)

model = nn.Sequential(
    nn.Linear(20, 64),
    nn.ReLU(),
    nn.Dropout(0.5),
    nn.BatchNorm1d(64),
    nn.Linear(64, 3),
)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(10):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: loss {loss.item():.3f}")
