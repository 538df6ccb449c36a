"""A tiny DDP job on CPU with the gloo backend (run under torchrun)."""
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("gloo")
torch.manual_seed(dist.get_rank())
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.5), nn.BatchNorm1d(16), nn.Linear(16, 2))
ddp = DDP(model)
optimizer = torch.optim.SGD(ddp.parameters(), lr=0.05)
for step in range(1000):
    x = torch.randn(32, 8)
    y = (x[:, 0] > 0).long()
    optimizer.zero_grad()
    nn.functional.cross_entropy(ddp(x), y).backward()
    optimizer.step()
dist.destroy_process_group()
