"""Epoch summary levels 4x apart (neural/training/series.py WIDTHS): the levels 64, 1024 and 16384
are folded from the stored level four times finer (16, 256, 4096), four blocks into one, so a
long run's whole-range read parses a quarter of the rows it did. The fold keeps what folding
the epochs one by one keeps: the first and last value, the min and max with the earliest epoch of
each. Going back drops the added levels."""

from itertools import chain

from django.db import migrations

FIRST, LAST, MIN, ARGMIN, MAX, ARGMAX = range(6)
ADDED = {64: 16, 1024: 256, 16384: 4096}  # new width: the width it is folded from


def fold(children):
    """The stats of consecutive blocks (in epoch order) as one block's."""
    stats = {}
    for child in children:
        for key, s in child.stats.items():
            t = stats.get(key)
            if t is None:
                stats[key] = list(s)
                continue
            t[LAST] = s[LAST]
            if s[MIN] < t[MIN]:
                t[MIN], t[ARGMIN] = s[MIN], s[ARGMIN]
            if s[MAX] > t[MAX]:
                t[MAX], t[ARGMAX] = s[MAX], s[ARGMAX]
    return stats


def add_levels(apps, schema_editor):
    EpochSummary = apps.get_model("training", "EpochSummary")
    sessions = EpochSummary.objects.filter(width=16).values_list("session_id", flat=True).distinct()
    for session_id in sessions.iterator():
        for width, finer in ADDED.items():
            if EpochSummary.objects.filter(session_id=session_id, width=width).exists():
                continue
            rows, group, block = [], [], None
            source = EpochSummary.objects.filter(session_id=session_id, width=finer).order_by("block")
            for child in chain(source.iterator(2000), [None]):
                if group and (child is None or child.block * finer // width != block):
                    rows.append(
                        EpochSummary(
                            session_id=session_id, width=width, block=block, first_epoch=group[0].first_epoch,
                            last_epoch=group[-1].last_epoch, stats=fold(group),
                        )
                    )  # fmt: skip
                    group = []
                if child is not None:
                    block = child.block * finer // width
                    group.append(child)
            EpochSummary.objects.bulk_create(rows, batch_size=2000)


def drop_levels(apps, schema_editor):
    apps.get_model("training", "EpochSummary").objects.filter(width__in=list(ADDED)).delete()


class Migration(migrations.Migration):
    dependencies = [("training", "0013_ensemble_job")]

    operations = [migrations.RunPython(add_levels, drop_levels)]
