"""Queue again the e-mails of notifications that were never sent (issue #13).

    python manage.py send_pending_emails            # never attempted (the queue was down when the act committed)
    python manage.py send_pending_emails --failed   # also those whose retries ran out (after fixing SMTP)

The daily `send_reminders` runs the first form too."""
from django.core.management.base import BaseCommand

from rpms.notifications.services import pending_emails_requeue


class Command(BaseCommand):
    help = "重新排队发送未发出的提醒邮件（默认只处理从未尝试发送的；--failed 同时处理重试已用尽的）。"

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="同时重新发送重试已用尽的邮件")
        parser.add_argument("--days", type=int, default=7, help="只处理最近若干天的提醒（默认 7）")

    def handle(self, *args, **options):
        count = pending_emails_requeue(include_failed=options["failed"], days=max(1, options["days"]))
        self.stdout.write(f"已重新排队 {count} 条提醒邮件。")
