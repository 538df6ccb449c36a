"""A CNN block with biased layers feeding BatchNorm (HPL002)."""
import torch.nn as nn
from torch.nn import Conv2d as C, BatchNorm2d


class Block(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        # keep this comment
        self.conv = C(cin, cout, kernel_size=3, padding=1, bias=False)  # trailing comment
        self.bn = BatchNorm2d(cout)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(
                cout * 4,  # in
                10, bias=False),       # out
            nn.BatchNorm1d(10),
        )
        self.explicit = nn.Conv1d(4, 4, 3, 1, 0, 1, 1, False)
        self.bn1 = nn.BatchNorm1d(4)

    def forward(self, x):
        x = self.bn(self.conv(x))
        y = self.bn1(self.explicit(x.flatten(2)))
        return self.head(x), y
