"""Control: a Dropout(0.01) before BatchNorm (flagged, but the variance shift is
negligible) and a Linear -> ReLU -> BatchNorm (not flagged)."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.randn(1024, 16)
y = (X[:, 0] + X[:, 1] > 0).long()
loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)

model = nn.Sequential(
    nn.Linear(16, 32),
    nn.ReLU(),
    nn.BatchNorm1d(32),
    nn.Dropout(0.001),
    nn.BatchNorm1d(32),
    nn.Linear(32, 2),
)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for epoch in range(100):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
