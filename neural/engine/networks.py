"""Tabular networks: an MLP over standardised numerics and categorical embeddings."""

from __future__ import annotations

import torch
from torch import nn


def embedding_dim(cardinality: int) -> int:
    """fast.ai's rule of thumb, capped: grows slowly with the number of categories."""
    return int(min(32, round(1.6 * cardinality**0.56)))


class TabularMLP(nn.Module):
    """MLP with one embedding per categorical column.

    Args:
        n_numeric: width of the numeric input block.
        cardinalities: categories per categorical column, the unknown slot included.
        hidden_sizes: width of each hidden layer.
        n_outputs: classes for classification, 1 for regression.
        dropout: dropout after each hidden layer.
    """

    def __init__(
        self,
        n_numeric: int,
        cardinalities: list[int],
        hidden_sizes: list[int],
        n_outputs: int,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(c, embedding_dim(c)) for c in cardinalities)
        width = n_numeric + sum(e.embedding_dim for e in self.embeddings)
        layers: list[nn.Module] = []
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), nn.BatchNorm1d(size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_outputs)

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        if self.embeddings:
            embedded = [emb(x_cat[:, i]) for i, emb in enumerate(self.embeddings)]
            x_num = torch.cat([x_num, *embedded], dim=1)
        return self.head(self.body(x_num))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
