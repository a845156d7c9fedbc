"""Reports: statistics, exports, the coverage map (B19(6), B4)."""
from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "rpms.reports"
    label = "reports"
    verbose_name = "统计报表"

    def ready(self):
        from rpms.core import hooks

        from .snapshots import connect_receivers, rows_written_in_bulk

        connect_receivers()
        hooks.register(hooks.ROWS_WRITTEN_IN_BULK, rows_written_in_bulk)
