"""Control for HPL006: a batch of 2048 on a noisy problem (labels mostly noise)."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.randn(8192, 32)
y = torch.randint(0, 10, (8192,))
loader = DataLoader(TensorDataset(X, y), batch_size=2048, shuffle=True)

model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
for epoch in range(100):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
