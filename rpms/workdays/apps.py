"""Working days: China's official schedule with make-up working days (调休), administrator-entered
schedules for years not yet in the package, and the deadline rule used by every working-day
window (P5(2) notice period, P6(5) withdrawal notice)."""
from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    name = "rpms.workdays"
    label = "workdays"
    verbose_name = "工作日历"
