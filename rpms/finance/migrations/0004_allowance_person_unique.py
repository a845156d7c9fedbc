"""Issue #12: after the reconciliation (0003), new rows are the person's (kind `cycle` by default) and a
person's cycle has one allowance (seq 1) and its supplements (2, 3 …); legacy rows stand apart."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("finance", "0003_allowance_reconcile"),
    ]

    operations = [
        migrations.AlterField(
            model_name="allowance",
            name="kind",
            field=models.CharField(choices=[("cycle", "本周期补贴"), ("supplement", "补记差额"), ("legacy", "按聘任计发的历史记录")],
                                   default="cycle", max_length=12, verbose_name="类型"),
        ),
        migrations.AddConstraint(
            model_name="allowance",
            constraint=models.UniqueConstraint(condition=models.Q(("kind", "legacy"), _negated=True),
                                               fields=("planner", "cycle_start", "seq"),
                                               name="one_allowance_per_person_cycle_seq"),
        ),
    ]
