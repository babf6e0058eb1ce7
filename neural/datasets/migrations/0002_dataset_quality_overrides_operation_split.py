from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("datasets", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataset",
            name="quality",
            field=models.JSONField(blank=True, help_text="the quality report of this version", null=True),
        ),
        migrations.AddField(
            model_name="dataset",
            name="column_overrides",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="dataset",
            name="operation",
            field=models.JSONField(
                blank=True, default=dict, help_text="how this version was made from its parent: {op, params, summary}"
            ),
        ),
        migrations.AddField(
            model_name="dataset",
            name="split",
            field=models.JSONField(
                blank=True,
                help_text="a stored split: {column, validation_ratio, stratify, time_column, rows}",
                null=True,
            ),
        ),
    ]
