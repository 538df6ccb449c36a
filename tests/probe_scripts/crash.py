import torch
import torch.nn as nn

model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.randn(8, 5)  # wrong feature count
loss = model(x).sum()
loss.backward()
optimizer.step()
