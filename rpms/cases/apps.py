"""Outstanding cases (P3(4), B22): planners' write-ups, reviewed and recommended by the city."""
from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "rpms.cases"
    label = "cases"
    verbose_name = "优秀案例"

    def ready(self):
        from rpms.portal.selectors import PENDING_PROVIDERS

        from .selectors import pending_items

        if pending_items not in PENDING_PROVIDERS:
            PENDING_PROVIDERS.append(pending_items)
