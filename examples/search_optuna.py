"""An Optuna study whose search space samples the learning rate and momentum
on a linear scale: most trials land on the largest values (HPL003, HPL004)."""
import optuna
import torch
import torch.nn as nn
import torch.nn.functional as F

LR_MIN, LR_MAX = 1e-5, 1e-1


def objective(trial, train_loader, val_loader, epochs=5):
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    lr = trial.suggest_float("lr", LR_MIN, LR_MAX)
    momentum = trial.suggest_float("momentum", 0.9, 0.999)
    weight_decay = trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    for _ in range(epochs):
        model.train()
        for x, y in train_loader:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        return sum(F.cross_entropy(model(x), y).item() for x, y in val_loader)


def search(train_loader, val_loader):
    study = optuna.create_study(direction="minimize")
    study.optimize(lambda t: objective(t, train_loader, val_loader), n_trials=50)
    return study.best_params
