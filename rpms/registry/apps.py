"""Registry: planners and teams, their qualifications and specialties, the resource pool (P5),
dossiers and removal on the listed grounds (P5(4)), and the exceptions to in-principle limits (B18,
B19(2), B19(7): rpms.registry.limits)."""
from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "rpms.registry"
    label = "registry"
    verbose_name = "责任规划师库"

    def ready(self):
        from rpms.core import hooks, pending

        from .selectors import pending_items
        from .services import perform_registry_act

        hooks.register(hooks.LIMIT_EXCEPTION_PERFORM, perform_registry_act)
        pending.register(pending_items)
