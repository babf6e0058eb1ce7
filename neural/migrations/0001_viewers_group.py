"""The ``viewers`` group of read-only accounts (neural.api.permissions)."""

from django.db import migrations

VIEWERS_GROUP = "viewers"  # neural.api.permissions.VIEWERS_GROUP, frozen here as migrations must be


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=VIEWERS_GROUP)


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=VIEWERS_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_group, delete_group)]
