"""Robustness of a model version: its held-out rows (or another data set) under seeded
perturbations and gradient attacks (``neural.engine.robustness``), stored with the version."""

from __future__ import annotations

import numpy as np
from django.utils import timezone

from neural.datasets.selectors import dataset_get
from neural.datasets.services import dataset_holdout, dataset_load_frame
from neural.engine.config import TrainConfig
from neural.engine.pipeline import split_rows
from neural.engine.robustness import robustness_report
from neural.engine.schema import TaskKind
from neural.errors import DataError
from neural.registry.models import ModelVersion
from neural.registry.services import model_version_robustness_set
from neural.registry.storage import version_load


def heldout_rows(version: ModelVersion):
    """The version's test rows (its validation rows when it has no test split), chosen by the
    same deterministic split its training used."""
    if version.dataset is None:
        raise DataError(f"{version} has no data set on this install; pass --data", field="data")
    dataset = version.dataset
    frame = dataset_load_frame(dataset)
    frame = frame[frame[dataset.target].notna()].reset_index(drop=True)
    config = TrainConfig.from_dict(version.config)
    split = split_rows(frame[dataset.target], TaskKind(dataset.task), config, dataset_holdout(frame))
    rows = split.test if len(split.test) else split.val
    return frame.iloc[np.sort(rows)], f"{dataset} (held-out {'test' if len(split.test) else 'validation'} rows)"


def version_robustness_run(*, version: ModelVersion, data: str | None = None, seed: int = 0) -> dict:
    """Measure and store the version's robustness report; returns it."""
    if version.kind == ModelVersion.Kind.ENSEMBLE:
        raise DataError(
            f"{version} is an ensemble; the robustness report (gradient attacks on one network) runs on "
            "single networks: run it on each member",
            field="model",
        )
    predictor = version_load(version=version)
    target = predictor.meta["target"]["name"]
    if data is None:
        frame, described = heldout_rows(version)
    else:
        dataset = dataset_get(ref=data)
        frame, described = dataset_load_frame(dataset), str(dataset)
    report = robustness_report(predictor, frame, target, seed=seed)
    report = {
        "model": version.model.name,
        "version": version.label,
        "data": described,
        "measured_at": timezone.now().isoformat(),
        **report,
    }
    model_version_robustness_set(version=version, report=report)
    return report


def robustness_text(report: dict) -> str:
    lines = [
        f"{report['model']}:{report['version']} on {report['data']}, {report['rows']} rows, seed {report['seed']}: "
        f"clean {report['metric']} {report['clean']:.4f}, robustness score {_fmt(report['score'])}",
        f"  {'perturbation':<20} {'strength':>8} {report['metric']:>9} {'kept':>6}",
    ]
    lines += [
        f"  {c['perturbation']:<20} {c['strength']:>8g} {c['score']:>9.4f} {c['kept']:>6.1%}" for c in report["results"]
    ]
    lines += [f"  {name:<20} skipped: {why}" for name, why in report.get("skipped", {}).items()]
    return "\n".join(lines)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"
