"""Registry: planners and teams, their qualifications and specialties, the resource pool (P5),
dossiers and removal on the listed grounds (P5(4))."""
from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "rpms.registry"
    label = "registry"
    verbose_name = "责任规划师库"
