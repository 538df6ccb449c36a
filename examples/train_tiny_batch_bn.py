"""A small CNN with BatchNorm trained two images at a time (HPL009)."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

BATCH_SIZE = 2


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


def main(train_set):
    model = SmallCNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True)
    for images, labels in loader:
        opt.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        opt.step()
