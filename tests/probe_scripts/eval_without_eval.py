"""HPL008 positive: evaluation under no_grad without model.eval()."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.randn(512, 10)
y = (X.sum(1) > 0).long()
train_loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(X, y), batch_size=128)

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)


def evaluate(net, loader):
    correct = 0
    with torch.no_grad():
        for xb, yb in loader:
            correct += (net(xb).argmax(1) == yb).sum().item()
    return correct / len(loader.dataset)


for epoch in range(50):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
    print("accuracy", evaluate(model, val_loader))
