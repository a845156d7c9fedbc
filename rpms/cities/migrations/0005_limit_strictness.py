import json
from pathlib import Path

from django.conf import settings
from django.db import migrations, models


def limit_strictness_from_shipped_files(apps, schema_editor):
    """Existing cities take how firmly each limit holds from their shipped configuration
    (data/cities/<code>.json); a city without a file keeps {} (every limit strict)."""
    PolicyProfile = apps.get_model("cities", "PolicyProfile")
    folder = Path(settings.BASE_DIR) / "data" / "cities"
    for profile in PolicyProfile.objects.select_related("city"):
        path = folder / f"{profile.city.code}.json"
        if not path.is_file():
            continue
        try:
            limits = json.loads(path.read_text(encoding="utf-8")).get("policy", {}).get("limit_strictness") or {}
        except (OSError, ValueError):
            continue
        if limits and not profile.limit_strictness:
            profile.limit_strictness = limits
            profile.save(update_fields=["limit_strictness"])


class Migration(migrations.Migration):

    dependencies = [
        ("cities", "0004_privacy_violation_kinds"),
    ]

    operations = [
        migrations.AddField(
            model_name="policyprofile",
            name="limit_strictness",
            field=models.JSONField(blank=True, default=dict, help_text="各项限制（unit_cap 同时服务责任单元上限、core_team_members 团队核心成员上限、eligibility 选聘条件）为 strict（硬性）或 in_principle（原则上，经市级主管部门批准可例外）；未列出的按 strict 执行", verbose_name="限制的执行方式"),
        ),
        migrations.RunPython(limit_strictness_from_shipped_files, migrations.RunPython.noop),
    ]
