# The prediction log now belongs to the serving app (neural/serving/migrations/0001_initial.py):
# feedback points at serving.PredictionLog and monitoring forgets the model. Nothing changes in
# the database: same table, same column, same constraint.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0007_predictionlog_no_time_index"),
        ("serving", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="feedback",
                    name="prediction",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="feedback",
                        to="serving.predictionlog",
                    ),
                ),
                migrations.DeleteModel(name="PredictionLog"),
            ],
            database_operations=[],
        ),
    ]
