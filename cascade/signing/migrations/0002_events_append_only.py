"""The evidence log is append-only in the database itself.

PostgreSQL refuses UPDATE and DELETE of an event. SQLite refuses UPDATE; a DELETE trigger there
would also stop Django's flush of a test database (DELETE FROM each table), so deleting is left
to the PROTECT foreign keys, the model's delete() and the hash chain, which a gap breaks."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER signing_event_no_update BEFORE UPDATE ON signing_signatureevent
       BEGIN SELECT RAISE(ABORT, 'signature events are append-only'); END""",
]
SQLITE_REVERSE = ["DROP TRIGGER signing_event_no_update"]

POSTGRES = [
    """CREATE FUNCTION signing_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'signature events are append-only'; END $$""",
    """CREATE TRIGGER signing_event_append_only BEFORE UPDATE OR DELETE ON signing_signatureevent
       FOR EACH ROW EXECUTE FUNCTION signing_event_append_only()""",
]
POSTGRES_REVERSE = ["DROP TRIGGER signing_event_append_only ON signing_signatureevent",
                    "DROP FUNCTION signing_event_append_only()"]


def forwards(apps, schema_editor):
    _run(schema_editor, SQLITE if schema_editor.connection.vendor == "sqlite" else POSTGRES)


def backwards(apps, schema_editor):
    _run(schema_editor, SQLITE_REVERSE if schema_editor.connection.vendor == "sqlite" else POSTGRES_REVERSE)


def _run(schema_editor, statements):
    if schema_editor.connection.vendor not in ("sqlite", "postgresql"):
        return
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("signing", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
