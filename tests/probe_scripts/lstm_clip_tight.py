"""HPL005 measured before clipping: the LSTM of lstm_long.py with a summed loss,
clipped to 1.0 every step. The probe reports the norm clip_grad_norm_ was
given (large), not the clipped one."""
import torch
import torch.nn as nn

torch.manual_seed(0)
torch.set_num_threads(1)


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
    loss = nn.functional.cross_entropy(model(x).reshape(-1, 4), y.reshape(-1), reduction="sum")
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
