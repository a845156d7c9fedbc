"""Daily reminders (run once a day by cron or a systemd timer; see README "每日工作提醒").

    python manage.py send_reminders                 # every active city, today
    python manage.py send_reminders --city beijing  # one city
    python manage.py send_reminders --date 2026-06-01 --dry-run

Running it twice on a day sends nothing new: each item is reminded once per deadline."""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from rpms.cities.models import City
from rpms.core import clock
from rpms.notifications.reminders import REMINDER_PROVIDERS, reminders_send
from rpms.notifications.services import pending_emails_requeue


class Command(BaseCommand):
    help = "发送每日工作提醒（站内提醒 + 邮件），同一事项同一期限只提醒一次。"

    def add_arguments(self, parser):
        parser.add_argument("--city", help="只处理该城市代码（默认全部启用的城市）")
        parser.add_argument("--date", help="按该日期计算（YYYY-MM-DD，默认今天）")
        parser.add_argument("--dry-run", action="store_true", help="只列出到期事项，不发送")

    def handle(self, *args, **options):
        today = clock.today()
        if options.get("date"):
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("日期格式应为 YYYY-MM-DD。") from exc
        cities = City.objects.filter(is_active=True).select_related("policy").order_by("sort_order", "code")
        if options.get("city"):
            cities = cities.filter(code=options["city"])
            if not cities.exists():
                raise CommandError(f"城市“{options['city']}”不存在或未启用。")
        failures = 0
        for city in cities:
            if not hasattr(city, "policy"):
                continue
            if options.get("dry_run"):
                for provider in REMINDER_PROVIDERS:
                    for reminder in provider(city=city, today=today):
                        self.stdout.write(f"{city.code}\t{reminder.kind}\t{reminder.deadline}\t{len(reminder.users)} 人\t{reminder.title}")
                continue
            run = reminders_send(city=city, today=today)
            failures += len(run.failed)
            detail = "，".join(f"{kind} {count}" for kind, count in sorted(run.sent.items())) or "无"
            self.stdout.write(f"{city.name}（{today.isoformat()}）：新发送 {run.total_sent} 条提醒（{detail}）")
            for name in run.failed:
                self.stderr.write(f"{city.name}：提醒来源 {name} 执行失败，详见日志。")
        if not options.get("dry_run"):
            # E-mails whose job could not be queued (e.g. Redis was down when their act committed).
            requeued = pending_emails_requeue()
            if requeued:
                self.stdout.write(f"重新排队 {requeued} 条此前未能发送的提醒邮件。")
        if failures:
            raise CommandError(f"{failures} 个提醒来源执行失败。")
