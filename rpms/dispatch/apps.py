"""Dispatch: district requests for planners (P6(1)), city-wide matching (P6(2)) and its proposals,
declared conflicts of interest, replacement proposals when a planner withdraws (P6(5))."""
from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "rpms.dispatch"
    label = "dispatch"
    verbose_name = "统筹选派"

    def ready(self):
        from rpms.core import pending

        from .pending import dispatch_pending

        pending.register(dispatch_pending)
