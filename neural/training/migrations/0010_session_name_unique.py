from django.db import migrations, models


def rename_duplicates(apps, schema_editor):
    """Sessions made before names were unique per model (e.g. two "retrain of m:v1"): every
    name after the first of a model gets " #<id>", so the constraint can be added."""
    session = apps.get_model("training", "TrainingSession")
    seen = set()
    for row in session.objects.exclude(name="").order_by("pk").only("pk", "model_name", "name"):
        key = (row.model_name, row.name)
        if key in seen:
            session.objects.filter(pk=row.pk).update(name=f"{row.name[:190]} #{row.pk}")
        seen.add(key)


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0009_series_steps_tags"),
    ]

    operations = [
        migrations.RunPython(rename_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="trainingsession",
            constraint=models.UniqueConstraint(
                condition=models.Q(("name", ""), _negated=True),
                fields=("model_name", "name"),
                name="session_name_unique_per_model",
            ),
        ),
    ]
