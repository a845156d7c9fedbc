"""Issue #16 item 4: the audit trail becomes tamper-evident and its rows are kept.

- `mac`: an SM3 HMAC over each row's content and the previous row's `mac` (rpms.core.audit_chain). The rows
  already written get theirs here, in id order, with the key of settings.RPMS_AUDIT_KEY.
- PostgreSQL: `core_actionlog_chain_next`, the append's advisory lock, id and previous MAC in one call.
- The triggers that refuse UPDATE are dropped around that backfill and recreated, on both databases.
- SQLite now refuses DELETE too, as PostgreSQL already did: the database itself keeps every row, so nothing
  younger than the 180 days of 网络安全法 art. 21 can be deleted (nor anything older: the trail is never
  pruned through the application). Django's `flush` on SQLite empties the table with DELETE: the backend
  (rpms.core.sqlite) lifts the trigger for that one statement, as PostgreSQL's TRUNCATE bypasses row
  triggers.

On SQLite adding the column rebuilds the table, which drops its triggers: they are created again below.
A later migration that rebuilds core_actionlog on SQLite must recreate them too (tests/test_audit_trail.py
and rpms/core/tests/test_audit_chain.py fail otherwise).
"""
from django.db import migrations, models

from rpms.core.audit_chain import (
    CHAIN_COLUMNS,
    PG_CHAIN_NEXT_FUNCTION,
    SQLITE_NO_DELETE_TRIGGER,
    SQLITE_NO_UPDATE_TRIGGER,
    compute_mac,
)

PG_NO_UPDATE = """
CREATE TRIGGER core_actionlog_no_update BEFORE UPDATE ON core_actionlog
    FOR EACH ROW EXECUTE FUNCTION core_actionlog_append_only();
"""
BATCH = 2000


def _backfill(schema_editor):
    connection = schema_editor.connection
    previous = ""
    last_id = 0
    columns = ", ".join(connection.ops.quote_name(c) for c in CHAIN_COLUMNS)
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT {columns} FROM core_actionlog WHERE id > %s ORDER BY id LIMIT {BATCH}", [last_id]
            )
            rows = cursor.fetchall()
            if not rows:
                break
            updates = []
            for record in rows:
                values = dict(zip(CHAIN_COLUMNS, record, strict=True))
                for name in ("before", "after"):  # raw JSON text → the value JSONField reads back
                    values[name] = _json_value(values[name])
                values["at"] = _time_value(connection, values["at"])
                previous = compute_mac(values, previous)
                updates.append((previous, values["id"]))
                last_id = values["id"]
            cursor.executemany("UPDATE core_actionlog SET mac = %s WHERE id = %s", updates)


def _json_value(raw):
    import json

    if raw is None or not isinstance(raw, (str, bytes)):
        return raw  # psycopg decodes jsonb itself
    return json.loads(raw)


def _time_value(connection, raw):
    """SQLite gives back text: read it as Django's backend does (UTC)."""
    if isinstance(raw, str):
        from django.utils.dateparse import parse_datetime

        return parse_datetime(raw)
    return raw


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_actionlog_no_update ON core_actionlog;")
        _backfill(schema_editor)
        schema_editor.execute(PG_NO_UPDATE)
        schema_editor.execute(PG_CHAIN_NEXT_FUNCTION)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_actionlog_no_update;")
        schema_editor.execute("DROP TRIGGER IF EXISTS core_actionlog_no_delete;")
        _backfill(schema_editor)
        schema_editor.execute(SQLITE_NO_UPDATE_TRIGGER)
        schema_editor.execute(SQLITE_NO_DELETE_TRIGGER)
    else:
        _backfill(schema_editor)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS core_actionlog_chain_next(bigint);")
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_actionlog_no_delete;")


class Migration(migrations.Migration):
    dependencies = [("core", "0004_audit_list_indexes")]
    operations = [
        migrations.AddField(
            model_name="actionlog",
            name="mac",
            field=models.CharField(blank=True, default="", editable=False, max_length=64,
                                   verbose_name="校验值（SM3-HMAC）"),
        ),
        migrations.RunPython(forward, reverse),
    ]
