"""Outstanding cases (P3(4), B22): planners' write-ups, reviewed and recommended by the city."""
from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "rpms.cases"
    label = "cases"
    verbose_name = "优秀案例"

    def ready(self):
        from rpms.core import pending

        from .selectors import pending_items

        pending.register(pending_items)
