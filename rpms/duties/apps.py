"""Duties: duty records (B11, P3) with the hiring entity's confirmation, the zone-type focus they serve
(B13), data requests and confidential materials (B14(3), B16(1)), work certificates (B14(4)), extra
contracted work (B12) and monitoring feedback (B11(6)). Articles are cited from each city's policy
(`policy_article(city, step)`): duty_record, duty_confirm, data_request, confidential_material,
work_certificate, extra_work, monitoring_feedback."""
from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "rpms.duties"
    label = "duties"
    verbose_name = "履职管理"

    def ready(self):
        from rpms.core import pending

        from .pending import duties_pending

        pending.register(duties_pending)

        from django.db.models.signals import post_delete, post_save

        from .models import DutyRecord

        # The cached hours summaries of a city (selectors.SUMMARY_CACHE_TIMEOUT) are stale once one of its
        # records changes (bulk update/delete: DutyRecordQuerySet bumps the same scope).
        post_save.connect(_bump_duties_scope, sender=DutyRecord, dispatch_uid="duties_summary_cache_save")
        post_delete.connect(_bump_duties_scope, sender=DutyRecord, dispatch_uid="duties_summary_cache_delete")

        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed

        # A district officer's summaries are cached per officer: a change of its districts makes them stale.
        m2m_changed.connect(_bump_on_districts_changed, sender=get_user_model().districts.through,
                            dispatch_uid="duties_summary_cache_districts")


def _bump_duties_scope(sender, instance, **kwargs):
    from rpms.core import pubcache

    if instance.city_id:
        pubcache.bump(f"duties:{instance.city_id}")


def _bump_on_districts_changed(sender, instance, action, **kwargs):
    from rpms.core import pubcache

    if action in ("post_add", "post_remove", "post_clear") and getattr(instance, "city_id", None):
        pubcache.bump(f"duties:{instance.city_id}")
