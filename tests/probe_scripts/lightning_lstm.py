"""Lightning: an LSTM trained by Trainer without gradient_clip_val (HPL005), validated
every epoch. Trainer steps the optimizer with a closure (forward and backward run
inside step()): the probe measures after the closure."""
import lightning as L
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Tagger(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 64, batch_first=True)
        self.head = nn.Linear(64, 4)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self(x).reshape(-1, 4), y.reshape(-1), reduction="sum")

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val", nn.functional.cross_entropy(self(x).reshape(-1, 4), y.reshape(-1)))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.set_num_threads(1)
    X, Y = torch.randn(256, 200, 8), torch.randint(0, 4, (256, 200))
    train = DataLoader(TensorDataset(X, Y), batch_size=8)
    val = DataLoader(TensorDataset(X[:32], Y[:32]), batch_size=16)
    L.Trainer(max_epochs=3, enable_progress_bar=False, logger=False, enable_checkpointing=False,
              accelerator="cpu").fit(Tagger(), train, val)
