"""Duties: duty records (B11, P3), data requests (B14(3)), work certificates (B14(4)), extra contracted
work (B12) and monitoring feedback (B11(6))."""
from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "rpms.duties"
    label = "duties"
    verbose_name = "履职管理"
