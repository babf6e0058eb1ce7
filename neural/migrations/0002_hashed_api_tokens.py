"""API tokens become knox tokens (a digest, never the key): every DRF authtoken key still works,
and the table that held the keys in clear is dropped."""

import datetime

from django.db import migrations

OLD_TABLE = "authtoken_token"


def move_tokens(apps, schema_editor):
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    AuthToken = apps.get_model("knox", "AuthToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {OLD_TABLE}")
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        if created is not None and created.tzinfo is None:  # a column without a time zone (SQLite)
            created = created.replace(tzinfo=datetime.UTC)
        digest = hash_token(key)
        AuthToken(digest=digest, token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id, expiry=None).save()
        AuthToken.objects.filter(pk=digest).update(created=created)
    schema_editor.execute(schema_editor.sql_delete_table % {"table": schema_editor.quote_name(OLD_TABLE)})


class Migration(migrations.Migration):
    dependencies = [
        ("neural", "0001_viewers_group"),
        ("knox", "0009_extend_authtoken_field"),
    ]
    operations = [migrations.RunPython(move_tokens, migrations.RunPython.noop)]
