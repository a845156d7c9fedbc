"""The audit trail is append-only below the UI and the ORM: database triggers refuse UPDATE (and,
on PostgreSQL, DELETE) of core_actionlog rows.

SQLite gets no DELETE trigger because Django's test flush empties tables with DELETE; on
PostgreSQL flush uses TRUNCATE, which row triggers do not see. The model and its queryset
refuse deletion on both."""
from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION core_actionlog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'core_actionlog is append-only (操作日志只能追加)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_actionlog_no_update BEFORE UPDATE ON core_actionlog
    FOR EACH ROW EXECUTE FUNCTION core_actionlog_append_only();
CREATE TRIGGER core_actionlog_no_delete BEFORE DELETE ON core_actionlog
    FOR EACH ROW EXECUTE FUNCTION core_actionlog_append_only();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS core_actionlog_no_update ON core_actionlog;
DROP TRIGGER IF EXISTS core_actionlog_no_delete ON core_actionlog;
DROP FUNCTION IF EXISTS core_actionlog_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER core_actionlog_no_update BEFORE UPDATE ON core_actionlog
BEGIN SELECT RAISE(ABORT, 'core_actionlog is append-only'); END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS core_actionlog_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
