"""Appointments: local selection (the entity proposes, the district approves), planners serving units,
contracts signed and filed, disclosure, running contracts entered with their history, terms, renewal,
termination, withdrawal, the postings a removal from the pool ends, and replacement (B2, B4, B6, B8, B19,
B25, P5(4), P6(2)–(5))."""
from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "rpms.appointments"
    label = "appointments"
    verbose_name = "派驻聘任"

    def ready(self):
        from rpms.core import hooks, pending

        from . import reminders
        from .removal import planner_removed
        from .proposals import perform_limit_exception
        from .selectors import covered_unit_ids, pending_items

        pending.register(pending_items)
        # P5(4): a removal from the pool (rpms.registry, a lower layer) ends the planner's postings.
        hooks.register(hooks.PLANNER_REMOVED, planner_removed)
        # B19(2): an exception the city administrator approves performs the appointing that waited.
        hooks.register(hooks.LIMIT_EXCEPTION_PERFORM, perform_limit_exception)
        # B4: the coverage rpms.geography shows is the units with an appointment in force.
        hooks.register(hooks.COVERED_UNITS, covered_unit_ids)
        # The daily reminders of this app (rpms.notifications.reminders).
        reminders.register_providers()
