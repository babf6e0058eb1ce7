"""Tabular networks: an MLP family over numeric inputs and categorical embeddings.

Depth and width come from ``hidden_sizes``. With ``residual`` the first layer projects the
input to the first width and every following layer of the same width is a pre-norm residual
block (``x + W2 · drop(act(W1 · norm(x)))``); a change of width is a plain layer. Normalisation
is batch norm, layer norm or none. Embedding sizes grow with each column's cardinality.
"""

from __future__ import annotations

import torch
from torch import nn

from neural.engine.config import NORMS


def embedding_dim(cardinality: int) -> int:
    """fast.ai's rule of thumb, capped: grows slowly with the number of categories."""
    return int(min(32, round(1.6 * cardinality**0.56)))


def _norm(kind: str, width: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm1d(width)
    if kind == "layer":
        return nn.LayerNorm(width)
    return nn.Identity()


class ResidualBlock(nn.Module):
    """Pre-norm residual block of constant width."""

    def __init__(self, width: int, norm: str, dropout: float) -> None:
        super().__init__()
        self.norm = _norm(norm, width)
        self.fc1 = nn.Linear(width, width)
        self.act = nn.ReLU()
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(self.drop(self.act(self.fc1(self.norm(x)))))


class TabularMLP(nn.Module):
    """MLP with one embedding per categorical column.

    Args:
        n_numeric: width of the numeric input block (text and tag inputs included).
        cardinalities: categories per categorical column, the unknown slot included.
        hidden_sizes: width of each hidden layer (depth = its length).
        n_outputs: classes for classification, 1 for regression.
        dropout: dropout after each hidden layer.
        residual: residual blocks between hidden layers of equal width.
        norm: "batch", "layer" or "none".
    """

    def __init__(
        self,
        n_numeric: int,
        cardinalities: list[int],
        hidden_sizes: list[int],
        n_outputs: int,
        dropout: float = 0.1,
        residual: bool = False,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        self.embeddings = nn.ModuleList(nn.Embedding(c, embedding_dim(c)) for c in cardinalities)
        width = n_numeric + sum(e.embedding_dim for e in self.embeddings)
        layers: list[nn.Module] = []
        for i, size in enumerate(hidden_sizes):
            if residual and i > 0 and size == width:
                layers.append(ResidualBlock(size, norm, dropout))
            else:
                layers += [nn.Linear(width, size), _norm(norm, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        if residual:
            layers.append(_norm(norm, width))
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_outputs)

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        if self.embeddings:
            embedded = [emb(x_cat[:, i]) for i, emb in enumerate(self.embeddings)]
            x_num = torch.cat([x_num, *embedded], dim=1)
        return self.head(self.body(x_num))


def build_network(arch: dict) -> TabularMLP:
    """The network an ``architecture`` dict (as in model.json) describes, freshly initialised."""
    return TabularMLP(
        arch["n_numeric"],
        arch["cardinalities"],
        arch["hidden_sizes"],
        arch["n_outputs"],
        arch["dropout"],
        residual=arch.get("residual", False),
        norm=arch.get("norm", "batch"),
    )


def hidden_sizes_for_budget(arch: dict, budget: int) -> list[int] | None:
    """The widest two-layer (then one-layer) ``hidden_sizes`` whose network has at most
    ``budget`` parameters, for the inputs and outputs of ``arch``; None when none fits."""

    def size(width: int, depth: int) -> list[int]:
        return [width, max(2, width // 2)][:depth]

    def fits(width: int, depth: int) -> bool:
        net = build_network({**arch, "hidden_sizes": size(width, depth), "residual": False})
        return count_parameters(net) <= budget

    for depth in (2, 1):
        if not fits(2, depth):
            continue
        low, high = 2, 1024  # parameters grow with width: bisect for the widest that fits
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if fits(mid, depth) else (low, mid - 1)
        return size(low, depth)
    return None


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
