"""Epoch and step series at any length: stored block summaries, and M4 reads of a range.

A session of a million epochs cannot be drawn, sent or even read row by row on every page
load. Each epoch row also updates one :class:`EpochSummary` per level in ``WIDTHS``
(first, last, min and max of every figure, with the epoch of each). A read of a range picks the
finest source, epoch rows or a summary level, that holds at most ``SOURCE_ROWS`` rows for the
range and reads it with one indexed range query, and folds them into ``max_points // 4`` buckets keeping each
bucket's first, last, min and max point: M4 (Jugel et al., VLDB 2014), so a spike in one epoch
of a million still shows. A range that holds at most ``max_points`` epochs comes back whole.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import numpy as np
import orjson
from django.db.models import ExpressionWrapper, F, IntegerField, Max, Min, TextField
from django.db.models.functions import Cast

from neural.training.models import EpochMetric, EpochSummary, StepMetric, TrainingSession

# Summary levels, 4x apart: a read uses the finest with at most SOURCE_ROWS rows for its range, so
# it folds between SOURCE_ROWS / 4 = 512 and 2048 rows (a range of 2048 epochs or fewer is read
# from its epoch rows), at least one row for each of the 500 buckets of a 2,000-point read.
# Reading and parsing those rows is most of a read's time: 16x apart (16, 256, 4096, 65536) a
# million-epoch run was read from 3,907 rows, now from 977 (migration 0011 adds the levels between).
WIDTHS = (16, 64, 256, 1024, 4096, 16384, 65536)
SOURCE_ROWS = 2048
DEFAULT_POINTS = 2000
MAX_POINTS = 20000
FIRST, LAST, MIN, ARGMIN, MAX, ARGMAX = range(6)


USAGE = ("rss_bytes", "cpu_percent", "gpu_bytes")  # epoch row columns drawn like figures
ROW_FIELDS = ("epoch", "metrics", *USAGE)


def _numbers(metrics: dict, *usage) -> dict[str, float]:
    """The finite numbers of an epoch's figures, with the process's usage (rss, cpu, gpu) when known."""
    out = {k: float(v) for k, v in metrics.items() if isinstance(v, int | float) and math.isfinite(v)}
    out.update((k, float(v)) for k, v in zip(USAGE, usage, strict=False) if v is not None)
    return out


def _merge(stats: dict, epoch: int, values: dict[str, float], *, first: bool, last: bool) -> dict:
    """Fold one epoch's figures into a block's stats (epochs may arrive out of order on resume)."""
    for key, v in values.items():
        s = stats.get(key)
        if s is None:
            stats[key] = [v, v, v, epoch, v, epoch]
            continue
        if first:
            s[FIRST] = v
        if last:
            s[LAST] = v
        if v < s[MIN]:
            s[MIN], s[ARGMIN] = v, epoch
        if v > s[MAX]:
            s[MAX], s[ARGMAX] = v, epoch
    return stats


def epoch_summaries_update(*, session_id: int, epoch: int, metrics: dict, usage: dict | None = None) -> None:
    """Fold one epoch into the summary block of each level: one read, one upsert of every level."""
    values = _numbers(metrics, *((usage or {}).get(k) for k in USAGE))
    blocks = {w: (epoch - 1) // w for w in WIDTHS}
    existing = {
        row.width: row
        for row in EpochSummary.objects.filter(session_id=session_id, width__in=WIDTHS).filter(
            block__in=set(blocks.values())
        )
        if blocks[row.width] == row.block
    }
    rows = []
    for width, block in blocks.items():
        old = existing.get(width)
        if old is None:
            stats, lo, hi = _merge({}, epoch, values, first=True, last=True), epoch, epoch
        else:
            first, last = epoch <= old.first_epoch, epoch >= old.last_epoch
            stats = _merge(old.stats, epoch, values, first=first, last=last)
            lo, hi = min(old.first_epoch, epoch), max(old.last_epoch, epoch)
        rows.append(
            EpochSummary(session_id=session_id, width=width, block=block, first_epoch=lo, last_epoch=hi, stats=stats)
        )
    EpochSummary.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["session", "width", "block"],
        update_fields=["stats", "first_epoch", "last_epoch"],
    )


def epoch_summaries_rebuild(*, session_id: int, chunk: int = 20000) -> int:
    """Recompute every summary of a session from its epoch rows (rows written with bulk_create,
    or by an older version). Streams the rows in chunks; returns the number of blocks written."""
    EpochSummary.objects.filter(session_id=session_id).delete()
    rows = EpochMetric.objects.filter(session_id=session_id).order_by("epoch").values_list(*ROW_FIELDS)
    written = 0
    batch: list[EpochSummary] = []
    for block in summaries_of(session_id, ((e, _numbers(m, *usage)) for e, m, *usage in rows.iterator(chunk))):
        batch.append(block)
        if len(batch) >= chunk:
            EpochSummary.objects.bulk_create(batch)
            written, batch = written + len(batch), []
    EpochSummary.objects.bulk_create(batch)
    return written + len(batch)


def summaries_of(session_id: int, epochs: Iterable[tuple[int, dict[str, float]]]) -> Iterator[EpochSummary]:
    """The (unsaved) summary blocks of ``(epoch, figures)`` pairs given in epoch order."""
    open_blocks: dict[int, EpochSummary] = {}
    for epoch, values in epochs:
        for width in WIDTHS:
            block = (epoch - 1) // width
            row = open_blocks.get(width)
            if row is None or row.block != block:
                if row is not None:
                    yield row
                row = open_blocks[width] = EpochSummary(
                    session_id=session_id, width=width, block=block, first_epoch=epoch, last_epoch=epoch, stats={}
                )
            _merge(row.stats, epoch, values, first=not row.stats, last=True)
            row.last_epoch = epoch
    yield from open_blocks.values()


def epoch_bounds(*, session: TrainingSession) -> tuple[int, int] | None:
    """First and last stored epoch, from the unique (session, epoch) index."""
    got = EpochMetric.objects.filter(session=session).aggregate(lo=Min("epoch"), hi=Max("epoch"))
    return None if got["lo"] is None else (got["lo"], got["hi"])


def epoch_range_series(
    *, session: TrainingSession, lo: int, hi: int, max_points: int = DEFAULT_POINTS, keys: set[str] | None = None
) -> dict:
    """Every figure of epochs ``lo..hi`` as ``{figure: {"x": [...], "y": [...]}}``: whole when
    the range holds at most ``max_points`` epochs, else M4-downsampled from the finest source
    (epoch rows or a summary level) that holds at most SOURCE_ROWS rows for the range."""
    span = hi - lo + 1
    buckets = span if span <= max_points else max(1, max_points // 4)
    fits = span <= max(SOURCE_ROWS, max_points)
    width = 1 if fits else next((w for w in WIDTHS if span / w <= SOURCE_ROWS), WIDTHS[-1])
    # JSON is read as text and parsed with orjson: the json module took most of a read's time.
    if width == 1:
        rows = (
            EpochMetric.objects.filter(session=session, epoch__gte=lo, epoch__lte=hi)
            .order_by("epoch")
            .annotate(text=Cast("metrics", TextField()))
        )
        sources = (
            (e, e, {k: [v, v, v, e, v, e] for k, v in _numbers(orjson.loads(m), *usage).items()})
            for e, m, *usage in rows.values_list("epoch", "text", *USAGE)
        )
    else:
        blocks = (
            EpochSummary.objects.filter(
                session=session, width=width, block__gte=(lo - 1) // width, block__lte=(hi - 1) // width
            )
            .order_by("block")
            .annotate(text=Cast("stats", TextField()))
        )
        sources = ((a, b, orjson.loads(text)) for a, b, text in blocks.values_list("first_epoch", "last_epoch", "text"))
    return {
        "resolution": math.ceil(span / buckets),
        "source_width": width,
        "series": _m4(sources, lo=lo, hi=hi, buckets=buckets, keys=keys),
    }


def _m4(
    sources: Iterable[tuple[int, int, dict]], *, lo: int, hi: int, buckets: int, keys: set[str] | None = None
) -> dict[str, dict]:
    """Fold (first_epoch, last_epoch, stats) sources, in epoch order, into ``buckets`` even
    buckets of lo..hi and keep each bucket's first, min, max and last point (in epoch order,
    without repeats), with numpy over the whole range at once. An extreme that a source block
    holds outside lo..hi is left out."""
    rows = list(sources)
    if not rows:
        return {}
    span = hi - lo + 1
    fx = np.maximum(np.fromiter((r[0] for r in rows), np.int64, len(rows)), lo)
    lx = np.minimum(np.fromiter((r[1] for r in rows), np.int64, len(rows)), hi)
    bucket = np.minimum(buckets - 1, (fx - lo) * buckets // span)
    names = keys if keys is not None else {k for r in rows for k in r[2]}
    out = {}
    for key in sorted(names):
        have = [i for i, r in enumerate(rows) if key in r[2]]
        if not have:
            continue
        stats = np.array([rows[i][2][key] for i in have], dtype=np.float64)
        out[key] = _m4_one(stats, fx[have], lx[have], bucket[have], lo, hi)
    return out


def _m4_one(stats: np.ndarray, fx: np.ndarray, lx: np.ndarray, bucket: np.ndarray, lo: int, hi: int) -> dict:
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(bucket)] - 1
    inside = {i: (stats[:, i] >= lo) & (stats[:, i] <= hi) for i in (ARGMIN, ARGMAX)}
    lows = np.where(inside[ARGMIN], stats[:, MIN], np.inf)
    highs = np.where(inside[ARGMAX], -stats[:, MAX], np.inf)
    # Sorted by (bucket, value), a bucket's rows keep their places: its first row is its extreme.
    at_min = np.lexsort((lows, bucket))[starts]
    at_max = np.lexsort((highs, bucket))[starts]
    xs = np.stack([fx[starts], stats[at_min, ARGMIN], stats[at_max, ARGMAX], lx[ends]], axis=1)
    ys = np.stack([stats[starts, FIRST], stats[at_min, MIN], stats[at_max, MAX], stats[ends, LAST]], axis=1)
    valid = np.stack([np.ones(len(starts), bool), np.isfinite(lows[at_min]), np.isfinite(highs[at_max])], axis=1)
    valid = np.c_[valid, np.ones(len(starts), bool)]
    xs = np.where(valid, xs, np.inf)
    order = np.argsort(xs, axis=1, kind="stable")
    xs, ys = np.take_along_axis(xs, order, 1), np.take_along_axis(ys, order, 1)
    keep = np.isfinite(xs) & np.c_[np.ones(len(starts), bool), xs[:, 1:] != xs[:, :-1]]
    return {"x": xs[keep].astype(np.int64).tolist(), "y": ys[keep].tolist()}


def step_bounds(*, session: TrainingSession) -> tuple[int, int] | None:
    got = StepMetric.objects.filter(session=session).aggregate(lo=Min("step"), hi=Max("step"))
    return None if got["lo"] is None else (got["lo"], got["hi"])


def step_rows_after(*, session: TrainingSession, after: int, limit: int) -> dict:
    got = list(
        StepMetric.objects.filter(session=session, step__gt=after)
        .order_by("step")[:limit]
        .values_list("step", "epoch", "loss")
    )
    return {
        "resolution": 1,
        "step": [r[0] for r in got],
        "epoch": [r[1] for r in got],
        "loss": [r[2] for r in got],
        "more": len(got) == limit,
    }


def step_range_series(*, session: TrainingSession, lo: int, hi: int, max_points: int = DEFAULT_POINTS) -> dict:
    """Batch loss of steps lo..hi: whole when at most ``max_points`` rows, else each bucket's
    min and max (GROUP BY in the database), drawn at the bucket's first and last step."""
    rows = StepMetric.objects.filter(session=session, step__gte=lo, step__lte=hi)
    if rows.count() <= max_points:
        got = list(rows.order_by("step").values_list("step", "epoch", "loss"))
        return {"resolution": 1, "step": [r[0] for r in got], "epoch": [r[1] for r in got], "loss": [r[2] for r in got]}
    buckets = max(1, max_points // 2)
    width = math.ceil((hi - lo + 1) / buckets)
    grouped = (
        rows.annotate(b=ExpressionWrapper((F("step") - lo) / width, output_field=IntegerField()))
        .values("b")
        .annotate(x0=Min("step"), x1=Max("step"), e=Max("epoch"), y0=Min("loss"), y1=Max("loss"))
        .order_by("b")
    )
    steps, epochs, losses = [], [], []
    for g in grouped:
        steps += [g["x0"], g["x1"]] if g["x1"] != g["x0"] else [g["x0"]]
        losses += [g["y0"], g["y1"]] if g["x1"] != g["x0"] else [g["y0"]]
        epochs += [g["e"]] * (2 if g["x1"] != g["x0"] else 1)
    return {"resolution": width, "step": steps, "epoch": epochs, "loss": losses}
