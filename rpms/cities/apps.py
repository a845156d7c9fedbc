"""Cities and their policy profiles: every number and list of a city's rule book held as data
(B13, B18, B19, B11, P3–P6), so a third city is configured without code."""
from django.apps import AppConfig


class CitiesConfig(AppConfig):
    name = "rpms.cities"
    label = "cities"
    verbose_name = "城市与政策配置"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from .models import PolicyProfile

        def _policy_changed(sender, instance, **kwargs):
            from rpms.core import pubcache

            from .selectors import policy_scope

            pubcache.bump(policy_scope(instance.city_id), pubcache.public_scope(instance.city_id))

        post_save.connect(_policy_changed, sender=PolicyProfile, weak=False, dispatch_uid="cities.policy_changed")
        post_delete.connect(_policy_changed, sender=PolicyProfile, weak=False, dispatch_uid="cities.policy_deleted")
