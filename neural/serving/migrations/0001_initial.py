# The prediction log moves from the monitoring app to this one: the table stays where it is
# (``monitoring_predictionlog``), only Django's idea of which app owns it changes.

import uuid

import django.db.models.deletion
from django.db import migrations, models

import neural.serving.fields


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("monitoring", "0007_predictionlog_no_time_index"),
        ("registry", "0003_rollout_compression_history"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PredictionLog",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("inputs", neural.serving.fields.TextJSONField()),
                        ("output", neural.serving.fields.TextJSONField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("latency_ms", models.FloatField(blank=True, null=True)),
                        (
                            "model_version",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="predictions",
                                to="registry.modelversion",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "monitoring_predictionlog",
                        "ordering": ["-created_at"],
                        "indexes": [
                            models.Index(fields=["model_version", "created_at"], name="predictionlog_version_time")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
