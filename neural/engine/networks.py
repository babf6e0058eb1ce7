"""Tabular networks, by ``architecture``: ``mlp`` (TabularMLP) and ``tabm`` (TabMNetwork).

MLP: depth and width come from ``hidden_sizes``. With ``residual`` the first layer projects the
input to the first width and every following layer of the same width is a pre-norm residual
block (``x + W2 · drop(act(W1 · norm(x)))``); a change of width is a plain layer. Normalisation
is batch norm, layer norm or none. Embedding sizes grow with each column's cardinality.

TabM (Gorishniy et al., ICLR 2025, the ``tabm`` package): ``k`` MLPs that share their weights
except for per-member scalings (BatchEnsemble), trained in parallel and averaged; the numeric
columns go through piecewise-linear (or periodic) embeddings from ``rtdl_num_embeddings``. In
training mode it returns every member's output ``(batch, k, outputs)`` (each member gets its own
loss, ``trainer.loss_function``); in eval mode the members' mean: the mean of the probabilities
(returned as log-probabilities, so a softmax gives it back) or of the regression values. The
fitted bin edges live in the architecture dict (model.json), never in a pickle.
"""

from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import rtdl_num_embeddings
import tabm
import torch
from torch import nn

from neural.engine.config import NORMS, NUM_EMBEDDINGS


@contextlib.contextmanager
def _one_bin_columns_are_fine():
    """rtdl_num_embeddings warns, at fit and at every load, for a column with a single bin (two
    distinct values, such as a 0/1 count): it says itself that this "should not break anything"
    and equals min-max scaling, which is what such a column needs. Only that warning is hushed."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"The \d+-th feature has just two bin edges", category=UserWarning)
        yield


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


class TabMNetwork(nn.Module):
    """TabM over embedded numerics, raw extra inputs and categorical embeddings.

    Args:
        n_numeric: width of the numeric input block (text, tag and missing-value inputs included).
        cardinalities: categories per categorical column, the unknown slot included.
        n_outputs: classes for classification, 1 for regression.
        embedded: the numeric block's columns that get a numeric embedding (the scaled numerics);
            the other columns (indicators, text, tags) enter as they are.
        bins: per embedded column, its piecewise-linear bin edges (``numeric_bins``).
        num_embeddings: "piecewise", "periodic" or "none".
        k: ensemble members; d_block, n_blocks: the members' width and depth.
    """

    def __init__(
        self,
        n_numeric: int,
        cardinalities: list[int],
        n_outputs: int,
        *,
        embedded: list[int],
        bins: list[list[float]],
        num_embeddings: str = "piecewise",
        k: int = 16,
        d_block: int = 256,
        n_blocks: int = 2,
        d_embedding: int = 16,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if num_embeddings not in NUM_EMBEDDINGS:
            raise ValueError(f"num_embeddings must be one of {NUM_EMBEDDINGS}, got {num_embeddings!r}")
        if num_embeddings == "none":
            embedded = []
        self.k, self.n_outputs = k, n_outputs
        self.register_buffer("embedded", torch.tensor(embedded, dtype=torch.long), persistent=False)
        raw = [i for i in range(n_numeric) if i not in set(embedded)]
        self.register_buffer("raw", torch.tensor(raw, dtype=torch.long), persistent=False)
        self.n_raw = len(raw)
        self.num_embedding: nn.Module | None = None
        if embedded and num_embeddings == "piecewise":
            edges = [torch.tensor(b, dtype=torch.float32) for b in bins]
            with _one_bin_columns_are_fine():
                self.num_embedding = rtdl_num_embeddings.PiecewiseLinearEmbeddings(
                    edges, d_embedding, activation=False, version="B"
                )
        elif embedded:
            self.num_embedding = rtdl_num_embeddings.PeriodicEmbeddings(len(embedded), d_embedding, lite=False)
        self.embeddings = nn.ModuleList(nn.Embedding(c, embedding_dim(c)) for c in cardinalities)
        chunks = [d_embedding] * len(embedded) + [1] * len(raw) + [e.embedding_dim for e in self.embeddings]
        if not chunks:
            raise ValueError("a network needs at least one input column")
        self.ensemble_view = tabm.EnsembleView(k=k)
        self.backbone = tabm.make_tabm_backbone(
            d_in=sum(chunks),
            n_blocks=n_blocks,
            d_block=d_block,
            dropout=dropout,
            k=k,
            arch_type="tabm",
            start_scaling_init="normal" if self.num_embedding is not None else "random-signs",
            start_scaling_init_chunks=chunks,
        )
        self.output = tabm.LinearEnsemble(d_block, n_outputs, k=k)

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        parts = []
        if self.num_embedding is not None:
            parts.append(self.num_embedding(x_num[:, self.embedded]).flatten(1))
        if self.n_raw:
            parts.append(x_num[:, self.raw])
        parts += [emb(x_cat[:, i]) for i, emb in enumerate(self.embeddings)]
        out = self.output(self.backbone(self.ensemble_view(torch.cat(parts, dim=1))))  # (batch, k, outputs)
        if self.training:
            return out
        if self.n_outputs == 1:
            return out.mean(dim=1)
        return torch.logsumexp(torch.log_softmax(out, dim=-1), dim=1) - math.log(self.k)


def numeric_bins(x_train: np.ndarray, columns: list[int], n_bins: int = 48) -> tuple[list[int], list[list[float]]]:
    """Quantile bin edges (``rtdl_num_embeddings.compute_bins``) for the given columns of the
    training rows; columns with fewer than two distinct values are left out (they enter raw).

    Returns:
        The columns kept and, for each, its bin edges.
    """
    kept = [c for c in columns if np.unique(x_train[:, c]).size >= 2]
    if not kept or len(x_train) < 3:
        return [], []
    x = torch.from_numpy(np.ascontiguousarray(x_train[:, kept], dtype=np.float32))
    with _one_bin_columns_are_fine():
        bins = rtdl_num_embeddings.compute_bins(x, n_bins=max(2, min(n_bins, len(x_train) - 1)))
    return kept, [b.tolist() for b in bins]


def build_network(arch: dict) -> nn.Module:
    """The network an ``architecture`` dict (as in model.json) describes, freshly initialised."""
    if arch.get("type") == "TabM":
        return TabMNetwork(
            arch["n_numeric"],
            arch["cardinalities"],
            arch["n_outputs"],
            embedded=arch["embedded"],
            bins=arch["bins"],
            num_embeddings=arch["num_embeddings"],
            k=arch["k"],
            d_block=arch["d_block"],
            n_blocks=arch["n_blocks"],
            d_embedding=arch["d_embedding"],
            dropout=arch["dropout"],
        )
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
        net = build_network({**arch, "type": "TabularMLP", "hidden_sizes": size(width, depth), "residual": False})
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
