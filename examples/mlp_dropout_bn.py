"""A tabular MLP classifier built from a block helper.

hplint flags: the Dropout that ends one block feeds the BatchNorm that starts
the next (HPL001), and every Linear keeps a bias that BatchNorm cancels (HPL002).
"""

import argparse

import torch
import torch.nn as nn


def block(n_in, n_out, p=0.0):
    layers = [nn.BatchNorm1d(n_in), nn.Linear(n_in, n_out), nn.ReLU()]
    if p:
        layers.append(nn.Dropout(p))
    return layers


class TabularNet(nn.Module):
    def __init__(self, n_features=64, n_classes=5):
        super().__init__()
        self.body = nn.Sequential(*block(n_features, 256, p=0.3), *block(256, 128, p=0.3))
        self.proj = nn.Linear(128, 64)
        self.bn_out = nn.BatchNorm1d(64)
        self.head = nn.Linear(64, n_classes)

    def forward(self, x):
        x = self.body(x)
        x = self.bn_out(self.proj(x))
        return self.head(torch.relu(x))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    model = TabularNet()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    x, y = torch.randn(256, 64), torch.randint(0, 5, (256,))
    for _ in range(10):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


if __name__ == "__main__":
    main()
