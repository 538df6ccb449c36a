"""HPL005 positive: an LSTM over long sequences, summed loss, no gradient clipping."""
import torch
import torch.nn as nn

torch.manual_seed(0)


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 64, batch_first=True)
        self.head = nn.Linear(64, 4)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out)


model = Tagger()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for step in range(1000):
    x = torch.randn(8, 100, 8)
    y = torch.randint(0, 4, (8, 100))
    logits = model(x)
    loss = nn.functional.cross_entropy(logits.reshape(-1, 4), y.reshape(-1), reduction="sum")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
