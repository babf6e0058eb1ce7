"""Per-epoch checkpoints (model, optimizer, scheduler, RNG, best weights) in the artifact format."""

from __future__ import annotations

from pathlib import Path

import torch

from neural.engine.artifacts import read_document, read_tensors, verify_bundle, write_bundle

STATE = "checkpoint.json"


def save_checkpoint(
    directory: Path, model, optimizer, scheduler, generator, trainer_state: dict, best_state: dict
) -> None:
    opt = optimizer.state_dict()
    opt_tensors: dict[str, torch.Tensor] = {}
    opt_scalars: dict[str, dict] = {}
    for idx, per_param in opt["state"].items():
        for key, value in per_param.items():
            if isinstance(value, torch.Tensor):
                opt_tensors[f"{idx}.{key}"] = value
            else:
                opt_scalars.setdefault(str(idx), {})[key] = value
    write_bundle(
        directory,
        {
            "model.safetensors": model.state_dict(),
            "best.safetensors": best_state,
            "optimizer.safetensors": opt_tensors,
            "rng.safetensors": _rng_state(generator, model),
        },
        {
            STATE: {
                **trainer_state,
                "optimizer_param_groups": opt["param_groups"],
                "optimizer_scalars": opt_scalars,
                "scheduler": scheduler.state_dict(),
            }
        },
    )


def load_checkpoint(directory: Path, model, optimizer, scheduler, generator) -> dict:
    """Restore model, optimizer, scheduler and RNG in place; return the trainer state."""
    verify_bundle(directory)
    state = read_document(directory, STATE)
    model.load_state_dict(read_tensors(directory, "model.safetensors"))
    per_param: dict[int, dict] = {}
    for key, tensor in read_tensors(directory, "optimizer.safetensors").items():
        idx, _, name = key.partition(".")
        per_param.setdefault(int(idx), {})[name] = tensor
    for idx, scalars in state["optimizer_scalars"].items():
        per_param.setdefault(int(idx), {}).update(scalars)
    optimizer.load_state_dict({"state": per_param, "param_groups": state["optimizer_param_groups"]})
    scheduler.load_state_dict(state["scheduler"])
    rng = read_tensors(directory, "rng.safetensors")
    generator.set_state(rng["generator"])
    torch.set_rng_state(rng["torch"])  # dropout draws from the global generator
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state(rng["cuda"])  # ... or, on a GPU, from that device's
    state["best_state"] = read_tensors(directory, "best.safetensors")
    return state


def _rng_state(generator, model) -> dict[str, torch.Tensor]:
    state = {"generator": generator.get_state(), "torch": torch.get_rng_state()}
    device = next(model.parameters()).device
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state
