"""Training script of the multi-file example: the GRU model comes from models.py (HPL005)."""
import torch
from torch.cuda.amp import GradScaler

from models import Seq2Label


def train_epoch(model, loader, opt, scaler):
    model.train()
    for tokens, labels in loader:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(tokens), labels)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()


def main(loader):
    model = Seq2Label()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = GradScaler()
    for _ in range(10):
        train_epoch(model, loader, opt, scaler)
