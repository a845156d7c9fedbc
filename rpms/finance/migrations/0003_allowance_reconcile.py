"""Issue #12 (P6(3) 每年 5000 元/人): the per-appointment allowance rows of before are reconciled with the
person's allowance — a row that already is the person's allowance becomes it; where a person's cycle had
duplicates (two units in one cycle) or another amount, the paid rows are kept (never deleted) and linked
to a reconciliation record showing what was paid, what is due per person and the difference; unpaid
ones are removed (the person's allowance replaces them). See rpms.finance.reconcile."""
from django.db import migrations


def reconcile(apps, schema_editor):
    from rpms.finance.reconcile import reconcile_legacy_allowances

    reconcile_legacy_allowances(apps=apps)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_actionlog_append_only_triggers"),
        ("finance", "0002_allowance_per_person"),
    ]

    operations = [
        migrations.RunPython(reconcile, migrations.RunPython.noop),
    ]
