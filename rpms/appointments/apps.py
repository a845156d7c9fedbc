"""Appointments: planners serving units, contracts, filing, disclosure, terms, renewal, termination,
withdrawal and replacement (B19, B25, P6)."""
from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "rpms.appointments"
    label = "appointments"
    verbose_name = "派驻聘任"
