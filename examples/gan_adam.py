"""DCGAN discriminator and optimizers.

hplint reports: conv biases cancelled by the BatchNorm after them (HPL002,
safe fix). Adam's beta1=0.5 is the DCGAN recipe for a discriminator, so HPL007
accepts it (`mode = "strict"` under [tool.hplint.rules.HPL007] would report it).
"""

import argparse

import torch
from torch import nn


class Discriminator(nn.Module):
    def __init__(self, nc=3, ndf=64):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1)


parser = argparse.ArgumentParser()
parser.add_argument("--beta1", type=float, default=0.5, help="Adam beta1 from the DCGAN paper")
parser.add_argument("--lr", type=float, default=2e-4)
opt_args = parser.parse_args()

netD = Discriminator()
optimizerD = torch.optim.Adam(netD.parameters(), lr=opt_args.lr, betas=(opt_args.beta1, 0.999))
