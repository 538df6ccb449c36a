"""HPL003 + HPL004: a random search that samples the learning rate and SGD's
momentum uniformly on a linear scale (a hand-written search loop, as in many
training scripts). `random_search_log.py` is the twin that samples on a log scale."""
import random

import torch
import torch.nn as nn

torch.manual_seed(0)
random.seed(0)
X = torch.randn(256, 8)
y = X.sum(1, keepdim=True)

best = None
for trial in range(3):
    lr = random.uniform(1e-5, 1e-1)
    momentum = random.uniform(0.9, 0.999)
    model = nn.Linear(8, 1)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    for step in range(20):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        opt.step()
    if best is None or loss.item() < best[0]:
        best = (loss.item(), lr, momentum)
print("best", best)
