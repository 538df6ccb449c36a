"""Models of the multi-file example: the recurrent model lives here."""
import torch.nn as nn


class Seq2Label(nn.Module):
    def __init__(self, vocab=1000, hidden=128, classes=5):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, classes)

    def forward(self, tokens):
        _, h = self.gru(self.embed(tokens))
        return self.out(h[-1])
