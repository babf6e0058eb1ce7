"""Training options recorded before TabM became the default name their network: a stored config
without ``architecture`` was trained as the MLP, and now that an option left out means TabM
(neural/engine/config.py), retraining or cross-validating it again must still mean the MLP. Only
configs of trained networks (with ``hidden_sizes``) are touched. Going back leaves them as they are:
the older code reads ``architecture: mlp`` as it always did."""

from django.db import migrations
from django.db.models import Q

BATCH = 2000


def name_the_mlp(apps, schema_editor):
    models = [
        apps.get_model("training", "TrainingSession"),
        apps.get_model("training", "CrossValidation"),
        apps.get_model("registry", "ModelVersion"),
    ]
    for model in models:
        rows = model.objects.filter(Q(config__has_key="hidden_sizes") & ~Q(config__has_key="architecture"))
        changed = []
        for row in rows.only("pk", "config").iterator(chunk_size=BATCH):
            row.config = {**row.config, "architecture": "mlp"}
            changed.append(row)
            if len(changed) == BATCH:
                model.objects.bulk_update(changed, ["config"])
                changed = []
        model.objects.bulk_update(changed, ["config"])


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0014_summary_levels"),
        ("registry", "0005_version_kind"),
    ]

    operations = [migrations.RunPython(name_the_mlp, migrations.RunPython.noop)]
