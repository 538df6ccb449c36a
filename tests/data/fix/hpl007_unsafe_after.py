"""Adam with non-default betas and eps (HPL007, unsafe fix)."""
import torch

model = torch.nn.Linear(4, 2)
# GAN-style betas, copied from a DCGAN recipe
opt = torch.optim.Adam(
    model.parameters(),
    lr=2e-4,
)
opt2 = torch.optim.AdamW(model.parameters(), lr=1e-3, eps=1e-8)
