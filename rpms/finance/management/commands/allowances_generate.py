"""Creates the due allowance rows (P6(3)) for every service cycle that has ended.

    python manage.py allowances_generate                     # every city whose policy sets an allowance, as of today
    python manage.py allowances_generate --city pingdingshan --date 2026-06-30

Idempotent (computed from the appointments' dates; a cycle that already has its row is skipped), so it
can run daily from cron or a systemd timer, e.g. `15 1 * * * cd /srv/rpms && .venv/bin/python manage.py
allowances_generate`. The rows are written by the system (audit actor "系统")."""
from django.core.management.base import BaseCommand, CommandError

from rpms.cities.models import City
from rpms.core.errors import DomainError
from rpms.finance.services import allowances_generate, parse_date


class Command(BaseCommand):
    help = "为已结束的服务周期生成交通通讯补贴应付记录（P6(3)），可重复运行，不会重复生成。"

    def add_arguments(self, parser):
        parser.add_argument("--city", help="城市代码，如 pingdingshan；省略则处理所有规定了补贴标准的城市")
        parser.add_argument("--date", help="计算日期 YYYY-MM-DD（默认今天，不能晚于今天）")

    def handle(self, *args, city=None, date=None, **options):
        try:
            on = parse_date(date, "计算日期") if date else None
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        cities = City.objects.filter(is_active=True).select_related("policy")
        if city:
            cities = cities.filter(code=city)
            if not cities.exists():
                raise CommandError(f"城市“{city}”不存在。")
        else:
            cities = cities.filter(policy__allowance_yuan_per_person_year__gt=0)
        for item in cities:
            try:
                rows = allowances_generate(actor=None, city=item, on=on)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
            if not item.policy.allowance_yuan_per_person_year:
                self.stdout.write(f"{item.name}：政策未规定交通通讯补贴，未生成记录。")
                continue
            total = sum(r.amount_yuan for r in rows)
            self.stdout.write(self.style.SUCCESS(f"{item.name}：新生成 {len(rows)} 条补贴应付记录，合计 {total} 元。"))
