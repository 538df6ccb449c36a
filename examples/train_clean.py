"""Everything done right: clipping for the LSTM, a sane batch, train/eval switching."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import clip_grad_norm_ as clip
from torch.utils.data import DataLoader


class Tagger(nn.Module):
    def __init__(self, vocab=5000, hidden=128, tags=17):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(2 * hidden, tags)

    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        return self.head(F.dropout(self.drop(out), 0.1, training=self.training))


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    return sum(F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item() for x, y in loader)


def main(train_set, val_set, epochs=10):
    model = Tagger()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=4096, shuffle=False)
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
            loss.backward()
            clip(model.parameters(), max_norm=5.0)
            opt.step()
        print(epoch, evaluate(model, val_loader))
