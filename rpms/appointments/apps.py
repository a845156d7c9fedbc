"""Appointments: local selection (the entity proposes, the district approves), planners serving units,
contracts signed and filed, disclosure, terms, renewal, termination, withdrawal and replacement
(B2, B4, B6, B8, B19, B25, P6(2)–(5))."""
from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "rpms.appointments"
    label = "appointments"
    verbose_name = "派驻聘任"

    def ready(self):
        from rpms.portal.selectors import PENDING_PROVIDERS

        from .selectors import pending_items

        if pending_items not in PENDING_PROVIDERS:
            PENDING_PROVIDERS.append(pending_items)
