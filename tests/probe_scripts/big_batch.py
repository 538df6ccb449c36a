"""HPL006 positive: a batch of 4096 on an easy, nearly noise-free problem."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.randn(16384, 32)
w = torch.randn(32, 1)
y = X @ w + 0.01 * torch.randn(16384, 1)
loader = DataLoader(TensorDataset(X, y), batch_size=4096, shuffle=True)

model = nn.Linear(32, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
for epoch in range(100):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
