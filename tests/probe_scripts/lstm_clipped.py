"""Control for HPL005: a short-sequence LSTM with a mean loss; gradients stay small."""
import torch
import torch.nn as nn

torch.manual_seed(0)


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(8, 16, batch_first=True)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


model = Tagger()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for step in range(1000):
    x = torch.randn(32, 10, 8)
    y = torch.randint(0, 4, (32,))
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
