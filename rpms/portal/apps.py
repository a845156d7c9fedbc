"""Portal: the public site and each role's home page (find my planner, public notices)."""
from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "rpms.portal"
    label = "portal"
    verbose_name = "门户"
