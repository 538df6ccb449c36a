"""`from module import *` of a project module binds what that module defines,
imports and star-imports (filtered by a literal `__all__`), as Python would.
Real code: practical-pytorch char-rnn `from model import *` (HPL005),
PyTorch-GAN srgan/esrgan `from models import *` (HPL009)."""

from __future__ import annotations

from helpers import lint_files

GRU_MODEL = """
    import torch.nn as nn


    class RNN(nn.Module):
        def __init__(self, n, h):
            super().__init__()
            self.gru = nn.GRU(n, h)
"""

GRU_TRAIN = """
    import torch
    from {module} import *

    decoder = RNN(10, 32)
    decoder_optimizer = torch.optim.Adam(decoder.parameters(), lr=0.01)


    def train(inp, target):
        decoder.zero_grad()
        out, _ = decoder.gru(inp)
        loss = torch.nn.functional.mse_loss(out, target)
        loss.backward()
        decoder_optimizer.step()
"""


def test_rnn_from_a_star_imported_sibling_module(tmp_path):
    findings = lint_files(tmp_path, {"model.py": GRU_MODEL, "train.py": GRU_TRAIN.format(module="model")},
                          "train.py", select=["HPL005"])
    assert [(f.code, f.line) for f in findings] == [("HPL005", 13)]
    assert findings[0].related[0].path.endswith("model.py")


def test_star_import_through_a_package_that_star_imports(tmp_path):
    files = {
        "pkg/__init__.py": "from .models import *\n",
        "pkg/models.py": GRU_MODEL,
        "train.py": GRU_TRAIN.format(module="pkg"),
    }
    findings = lint_files(tmp_path, files, "train.py", select=["HPL005"])
    assert [(f.code, f.line) for f in findings] == [("HPL005", 13)]


def test_all_and_private_names_limit_what_a_star_import_binds(tmp_path):
    model = GRU_MODEL + '\n__all__ = ["Other"]\n\n\nclass Other:\n    pass\n'
    findings = lint_files(tmp_path, {"model.py": model, "train.py": GRU_TRAIN.format(module="model")},
                          "train.py", select=["HPL005"])
    assert findings == []
    private = GRU_MODEL.replace("class RNN", "class _RNN")
    train = GRU_TRAIN.format(module="model").replace("RNN(10", "_RNN(10")
    assert lint_files(tmp_path, {"model.py": private, "train.py": train}, "train.py", select=["HPL005"]) == []


def test_torch_names_re_exported_by_a_star_imported_module(tmp_path):
    files = {
        "layers.py": "from torch.nn import *\n",
        "net.py": """
            from layers import *

            block = Sequential(Linear(8, 8), Dropout(0.5), BatchNorm1d(8))
            head = Sequential(Linear(8, 8), BatchNorm1d(8))
        """,
    }
    findings = lint_files(tmp_path, files, "net.py", select=["HPL001", "HPL002"])
    assert [(f.code, f.line) for f in findings] == [("HPL001", 3), ("HPL002", 4)]


def test_small_batch_with_a_star_imported_batchnorm_model(tmp_path):
    files = {
        "models.py": """
            import torch.nn as nn


            class Discriminator(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.net = nn.Sequential(nn.Conv2d(3, 64, 3, bias=False), nn.BatchNorm2d(64))
        """,
        "srgan.py": """
            import argparse
            import torch
            from models import *

            parser = argparse.ArgumentParser()
            parser.add_argument("--batch_size", type=int, default=4)
            opt = parser.parse_args()
            discriminator = Discriminator()
            optimizer = torch.optim.Adam(discriminator.parameters(), lr=2e-4)
            ds = torch.utils.data.TensorDataset(torch.randn(64, 3, 32, 32))
            for (imgs,) in torch.utils.data.DataLoader(ds, batch_size=opt.batch_size, shuffle=True):
                optimizer.zero_grad()
                discriminator(imgs).mean().backward()
                optimizer.step()
        """,
    }
    findings = lint_files(tmp_path, files, "srgan.py", select=["HPL009"])
    assert [(f.code, f.line) for f in findings] == [("HPL009", 6)]


def test_star_import_cycles_and_missing_modules_resolve_nothing(tmp_path):
    files = {
        "a.py": "from b import *\nfrom missing_module import *\n\nnet = Unknown()\n",
        "b.py": "from a import *\n",
    }
    assert lint_files(tmp_path, files, "a.py") == []
    assert lint_files(tmp_path, files, "b.py") == []


_VAE = (
    "from torch import nn\nfrom models import BaseVAE\n\n"
    "class VAE(BaseVAE):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.enc = nn.Sequential(nn.Conv2d(3, 32, 3), nn.BatchNorm2d(32), nn.LeakyReLU())\n\n"
    "    def forward(self, x):\n"
    "        return self.enc(x)\n"
)


def test_base_class_re_exported_by_the_package_the_module_lives_in(tmp_path):
    """AntixK/PyTorch-VAE: models/vae.py does `from models import BaseVAE`, and
    models/__init__.py re-exports it (named or starred, alongside star imports
    of modules that import the same name back from the package)."""
    for init in ("from .base import BaseVAE\n",
                 "from .base import *\nfrom .vae import *\nfrom .other import *\n"):
        files = {
            "models/__init__.py": init,
            "models/base.py": "from torch import nn\n\nclass BaseVAE(nn.Module):\n    pass\n",
            "models/other.py": "from models import BaseVAE\n\nclass Other(BaseVAE):\n    pass\n",
            "models/vae.py": _VAE,
        }
        findings = lint_files(tmp_path / str(len(init)), files, "models/vae.py", ["HPL002"])
        assert [f.line for f in findings] == [7], init
