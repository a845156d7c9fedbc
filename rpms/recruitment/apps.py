"""Recruitment: open and targeted calls (P5(1), P5(3)), applications with proofs, eligibility
(B18, P4), review and selection (P5(1)), public notices with objections (P5(2)), admission.

A notice's end is computed in working days; when a year's holiday schedule is entered later, the
notices touching that year are recomputed (listener registered with rpms.workdays.hooks)."""
from django.apps import AppConfig


class RecruitmentConfig(AppConfig):
    name = "rpms.recruitment"
    label = "recruitment"
    verbose_name = "征集与入库"

    def ready(self):
        from rpms.workdays.hooks import SCHEDULE_CHANGED_LISTENERS

        from rpms.core import hooks

        from . import reminders
        from .services import notices_recompute_for_year, perform_limit_exception

        if notices_recompute_for_year not in SCHEDULE_CHANGED_LISTENERS:
            SCHEDULE_CHANGED_LISTENERS.append(notices_recompute_for_year)
        # B18 "原则上": an approved exception performs the approval of an ineligible application.
        hooks.register(hooks.LIMIT_EXCEPTION_PERFORM, perform_limit_exception)
        # The daily reminders of this app (rpms.notifications.reminders).
        reminders.register_providers()
