"""Transfer learning: fine-tuning a source model on a little data from a shifted world, against
training from scratch on the same rows and against the source model as it is (zero-shot).

The source model trains (``TrainConfig()`` defaults) on ``--source-rows`` rows of a generator
pattern. The target world is the generator's drifted half (heavier load, harder tasks, another
task mix: ``generate(drift=True)``). For each size ``n`` and seed, ``n`` target rows train a model
from scratch (defaults) and fine-tune the source (``warm_start``, 25 epochs, the source's
learning rate: what ``neural transfer`` does). All three are scored on the same 10,000 held-out
target rows (the product's own test split of a few hundred rows is too small to compare them).

Run from the repository root::

    .venv/bin/python benchmarks/transfer.py [--pattern coordination] [--sizes 200,500,1500] [--seeds 4]
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from neural.datasets.generator import generate
from neural.engine.config import TrainConfig
from neural.engine.pipeline import train_tabular
from neural.engine.predictor import TabularPredictor

FINE_TUNE_EPOCHS = 25


def _predictor(trained) -> TabularPredictor:
    return TabularPredictor(trained.network, trained.preprocessor, trained.encoder, trained.meta())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pattern", default="coordination")
    parser.add_argument("--source-rows", type=int, default=5000)
    parser.add_argument("--sizes", default="200,500,1500")
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    print("command:", shlex.join([".venv/bin/python", "benchmarks/transfer.py", *sys.argv[1:]]))
    config = TrainConfig()
    source_rows, target = generate(pattern=args.pattern, rows=args.source_rows, seed=1)
    source = _predictor(train_tabular(source_rows, target, config=config))
    shifted, _ = generate(pattern=args.pattern, rows=20_000, seed=99, drift=True)
    evaluation = shifted.iloc[10_000:].reset_index(drop=True)  # the drifted half only

    def accuracy(model: TabularPredictor) -> float:
        predicted = [str(r["prediction"]) for r in model.predict_frame(evaluation[model.feature_names])]
        return float(np.mean(np.array(predicted) == evaluation[target].astype(str).to_numpy()))

    zero_shot = accuracy(source)
    print(f"{args.pattern}: source trained on {args.source_rows} rows of the unshifted world")
    print(f"zero-shot (the source as it is) on 10,000 shifted rows: accuracy {zero_shot:.4f}")
    print(f"{'rows':>6}  {'scratch':>8}  {'transfer':>8}  {'ratio':>6}  {'se':>6}")
    for n in (int(s) for s in args.sizes.split(",")):
        scratch, tuned = [], []
        for seed in range(args.seeds):
            drifted, _ = generate(pattern=args.pattern, rows=2 * n, seed=10 + seed, drift=True)
            rows = drifted.iloc[n:].reset_index(drop=True)
            scratch.append(accuracy(_predictor(train_tabular(rows, target, config=config))))
            fine = replace(config, epochs=FINE_TUNE_EPOCHS)
            tuned.append(accuracy(_predictor(train_tabular(rows, target, config=fine, warm_start=source))))
        ratios = [t / s for t, s in zip(tuned, scratch, strict=True)]
        se = statistics.stdev(ratios) / len(ratios) ** 0.5 if len(ratios) > 1 else float("nan")
        print(f"{n:>6}  {np.mean(scratch):8.4f}  {np.mean(tuned):8.4f}  {np.mean(ratios):6.3f}  {se:6.3f}")


if __name__ == "__main__":
    main()
