"""What the public sees is cached per city (rpms.core.pubcache, scope ``public_scope(city id)``: the find-my-planner
results, the public unit pages and API, the map, the open datasets). Every save or delete of a record that a
public page shows bumps the scope of the record's city, so that the next request builds the page again:
appointments (filed, started, ended, terminated, withdrawn: every change is a save of the appointment), their
terms, units, districts, subdistricts and memberships (created, renamed, merged, split, dissolved), planners
and their team members (the public card), district chiefs, suggestions and their replies (a published reply,
a hidden suggestion), cases, announcements, interpretations, recruitment calls and notices, honours.

Services that change such records with a bulk ``.update()`` or ``bulk_create()`` (no signals) bump the scope
themselves (rpms.geography.services, rpms.registry.services).

The receivers are registered by rpms.publicinfo.apps (a higher app listening to lower apps' models: no
lower app imports this one)."""
from __future__ import annotations

from django.apps import apps
from django.db.models.signals import post_delete, post_save

from rpms.core import pubcache


def _city_of(path: str):
    """A function giving the city id of an instance through `path` ("city_id", "unit__city_id", …)."""
    parts = path.split("__")

    def city_id(instance):
        value = instance
        for part in parts:
            value = getattr(value, part, None)
            if value is None:
                return None
        return value

    return city_id


# (app label, model name, path to the city id)
WATCHED = (
    ("appointments", "Appointment", "city_id"),
    ("appointments", "AppointmentTerm", "appointment__city_id"),
    ("appointments", "DistrictChief", "district__city_id"),
    ("geography", "ResponsibilityUnit", "city_id"),
    ("geography", "District", "city_id"),
    ("geography", "Subdistrict", "district__city_id"),
    ("geography", "UnitMembership", "unit__city_id"),
    ("registry", "Planner", "city_id"),
    ("registry", "TeamMember", "planner__city_id"),
    ("suggestions", "Suggestion", "city_id"),
    ("suggestions", "SuggestionReply", "suggestion__city_id"),
    ("cases", "Case", "city_id"),
    ("publicinfo", "Announcement", "city_id"),
    ("publicinfo", "AnnouncementAttachment", "announcement__city_id"),
    ("publicinfo", "Interpretation", "city_id"),
    ("recruitment", "OpenCall", "city_id"),
    ("recruitment", "PublicNotice", "city_id"),
    ("assessments", "Honour", "city_id"),
)


def bump_city(city_id) -> None:
    if city_id is not None:
        pubcache.bump(pubcache.public_scope(city_id))


def _receiver(city_id_of):
    def receiver(sender, instance, **kwargs):
        if kwargs.get("raw"):  # fixtures
            return
        try:
            city_id = city_id_of(instance)
        except Exception:  # noqa: BLE001 — a related row already deleted: bump nothing rather than fail the act
            return
        bump_city(city_id)

    return receiver


def _city_saved(sender, instance, **kwargs):
    """A city activated, renamed or reordered, or its policy profile changed: the (cached) lists of cities
    with their profiles and every page of the city change."""
    if kwargs.get("raw"):
        return
    pubcache.bump(CITIES_SCOPE)
    bump_city(getattr(instance, "city_id", None) or instance.pk)


CITIES_SCOPE = "public:cities"


def connect() -> None:
    for app_label, model_name, path in WATCHED:
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            continue
        receiver = _receiver(_city_of(path))
        uid = f"publicinfo.invalidation:{app_label}.{model_name}"
        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=uid + ":save")
        post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=uid + ":delete")
    for name in ("City", "PolicyProfile"):
        model = apps.get_model("cities", name)
        post_save.connect(_city_saved, sender=model, weak=False, dispatch_uid=f"publicinfo.invalidation:cities.{name}:save")
        post_delete.connect(_city_saved, sender=model, weak=False,
                            dispatch_uid=f"publicinfo.invalidation:cities.{name}:delete")
