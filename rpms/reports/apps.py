"""Reports: statistics, exports, the coverage map (B19(6), B4)."""
from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "rpms.reports"
    label = "reports"
    verbose_name = "统计报表"

    def ready(self):
        from .snapshots import connect_receivers

        connect_receivers()
