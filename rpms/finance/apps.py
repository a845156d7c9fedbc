"""Money: allowances (P6(3)) and contract service fees with their payment schedules (B21)."""
from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "rpms.finance"
    label = "finance"
    verbose_name = "补贴与费用"
