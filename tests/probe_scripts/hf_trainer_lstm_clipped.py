"""The clean twin of hf_trainer_lstm.py: the same Trainer loop with the default
max_grad_norm (1.0), so Trainer clips through accelerator.clip_grad_norm_
before each optimizer step."""
import tempfile

import torch
import torch.nn as nn
from torch.utils.data import Dataset
from transformers import Trainer, TrainingArguments


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 64, batch_first=True)
        self.head = nn.Linear(64, 4)

    def forward(self, x, labels=None):
        out, _ = self.rnn(x)
        logits = self.head(out)
        loss = nn.functional.cross_entropy(logits.reshape(-1, 4), labels.reshape(-1), reduction="sum")
        return {"loss": loss, "logits": logits}


class Sequences(Dataset):
    def __init__(self, n):
        self.x, self.y = torch.randn(n, 200, 8), torch.randint(0, 4, (n, 200))

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i], "labels": self.y[i]}


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, max_steps=100, per_device_train_batch_size=8,
                                 gradient_accumulation_steps=2, learning_rate=1e-3,
                                 report_to=[], save_strategy="no", use_cpu=True, disable_tqdm=True,
                                 logging_strategy="no", dataloader_num_workers=0, seed=0)
        Trainer(model=Tagger(), args=args, train_dataset=Sequences(256)).train()
