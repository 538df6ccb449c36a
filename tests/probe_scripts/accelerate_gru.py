"""accelerate: a GRU tagger trained through Accelerator().prepare(...) with
accelerator.backward(loss) and gradient accumulation over 2 micro-batches
(accelerator.accumulate), and no clipping (HPL005). The prepared optimizer is an
AcceleratedOptimizer: it steps the SGD inside only on the last micro-batch."""
import torch
import torch.nn as nn
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(8, 64, batch_first=True)
        self.head = nn.Linear(64, 4)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out)


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.set_num_threads(1)
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=2)
    X, Y = torch.randn(256, 200, 8), torch.randint(0, 4, (256, 200))
    loader = DataLoader(TensorDataset(X, Y), batch_size=8, shuffle=True)
    model = Tagger()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for epoch in range(10):
        model.train()
        for x, y in loader:
            with accelerator.accumulate(model):
                logits = model(x)
                loss = nn.functional.cross_entropy(logits.reshape(-1, 4), y.reshape(-1), reduction="sum")
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
