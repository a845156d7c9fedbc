"""Money: allowances (P6(3)) and contract service fees with their payment schedules (B21).

Articles are cited from each city's policy (`policy_article(city, step)`): allowance, fee."""
from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "rpms.finance"
    label = "finance"
    verbose_name = "补贴与费用"

    def ready(self):
        from rpms.core import pending

        from . import reminders
        from .pending import finance_pending

        pending.register(finance_pending)
        # The daily reminders of this app (rpms.notifications.reminders).
        reminders.register_providers()
