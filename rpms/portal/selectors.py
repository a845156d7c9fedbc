"""Reads behind the portal: the public "find my planner" lookup and each role's home page.

Every list here is bounded and uses select_related/prefetch_related, so its query count does not
grow with the number of rows. The public lookup returns only public facts (names of places and
units, and later the appointed planners' public cards) — never anyone's mobile or ID number."""
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch

from rpms.accounts.models import Role
from rpms.cities.models import City, PolicyProfile
from rpms.geography import selectors as geography_selectors
from rpms.geography.models import ResponsibilityUnit, Subdistrict, UnitMembership

SEARCH_MAX_LENGTH = 50
SEARCH_DEFAULT_LIMIT = 20


def _current_memberships(*, with_unit: bool = False, with_subdistrict: bool = False) -> Prefetch:
    """Open memberships of active units, as `current_memberships` (a list) on each object."""
    queryset = UnitMembership.objects.filter(left_at__isnull=True, unit__dissolved_at__isnull=True)
    related = []
    if with_unit:
        related.append("unit")
    if with_subdistrict:
        related.append("subdistrict")
    if related:
        queryset = queryset.select_related(*related)
    if with_subdistrict:
        queryset = queryset.order_by("subdistrict__code")
    return Prefetch("memberships", queryset=queryset, to_attr="current_memberships")


# ---------------------------------------------------------------------------------------------
# Public: 找到我的责任规划师
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicPlannerCard:
    """What the public may see of a planner serving a unit. Filled in once appointments exist."""

    name: str
    employer: str = ""
    role_label: str = ""
    contact: str = ""  # a public contact channel (office phone / mailbox), never a personal mobile


@dataclass(frozen=True)
class PlannerLookupRow:
    subdistrict: Subdistrict
    unit: ResponsibilityUnit | None
    planners: tuple[PublicPlannerCard, ...] = ()

    @property
    def district(self):
        return self.subdistrict.district

    @property
    def city(self):
        return self.subdistrict.district.city


@dataclass(frozen=True)
class PlannerLookup:
    query: str
    rows: list[PlannerLookupRow] = field(default_factory=list)
    has_more: bool = False  # more matches than shown: ask for a fuller name


def normalise_query(q) -> str:
    return " ".join(str(q or "").split())[:SEARCH_MAX_LENGTH]


def public_planners_for_units(units: list[ResponsibilityUnit]) -> dict[int, tuple[PublicPlannerCard, ...]]:
    """Unit id → the public cards of the planners serving it (filed, disclosed appointments; B19(7)),
    in one bounded set of queries over the given units."""
    from rpms.appointments.selectors import public_cards_for_units

    cards = public_cards_for_units(units)
    return {
        unit_id: tuple(
            PublicPlannerCard(
                name=c["planner_name"] + (f"（负责人：{c['leader_name']}）" if c.get("leader_name") else ""),
                employer=c.get("employer", ""), role_label=c.get("role_label", ""), contact=c.get("contact", ""),
            )
            for c in unit_cards
        )
        for unit_id, unit_cards in cards.items()
    }


def planner_lookup(*, q, city: City | None = None, limit: int = SEARCH_DEFAULT_LIMIT) -> PlannerLookup:
    """The public "find my planner" search: place → its unit → who serves it."""
    query = normalise_query(q)
    if not query:
        return PlannerLookup(query="")
    # geography's search gives each subdistrict its `current_unit` (None when in no active unit)
    found = geography_selectors.subdistrict_search(q=query, city=city, limit=limit + 1)
    has_more = len(found) > limit
    found = found[:limit]
    units = {s.pk: s.current_unit for s in found if s.current_unit is not None}
    planners = public_planners_for_units(list({u.pk: u for u in units.values()}.values()))
    rows = [
        PlannerLookupRow(
            subdistrict=subdistrict,
            unit=units.get(subdistrict.pk),
            planners=planners.get(units[subdistrict.pk].pk, ()) if subdistrict.pk in units else (),
        )
        for subdistrict in found
    ]
    return PlannerLookup(query=query, rows=rows, has_more=has_more)


def public_cities() -> list[City]:
    return list(City.objects.filter(is_active=True).order_by("sort_order", "code"))


# ---------------------------------------------------------------------------------------------
# City administrator: coverage and pending work
# ---------------------------------------------------------------------------------------------


UNCOVERED_UNITS_SHOWN = 10


def coverage_overview(city: City) -> dict:
    """B4 coverage of the city for its administrator's home page.

    units / covered / uncovered (counts) and the first `uncovered_units` come from geography's
    `coverage_summary` (a unit is covered once it has an active appointment); the subdistrict
    figures show how much of the city is not yet in any unit."""
    summary = geography_selectors.coverage_summary(city)
    uncovered = summary["uncovered"]
    in_active_unit = UnitMembership.objects.filter(
        subdistrict=OuterRef("pk"), left_at__isnull=True, unit__dissolved_at__isnull=True
    )
    city_subdistricts = Subdistrict.objects.filter(district__city=city)
    return {
        "units": summary["units"],
        "covered": summary["covered"],
        "uncovered": len(uncovered),
        "uncovered_units": uncovered[:UNCOVERED_UNITS_SHOWN],
        "subdistricts": city_subdistricts.count(),
        "subdistricts_unassigned": city_subdistricts.exclude(Exists(in_active_unit)).count(),
    }


@dataclass(frozen=True)
class PendingItem:
    """One line of the "待办事项" panel: what is waiting, how many, and where to act on it."""

    title: str
    url: str
    count: int = 1
    due: str = ""  # e.g. "公示期至 2026-03-12"
    level: str = "info"  # info / warn (shown as .badge / .badge.warn)


# Each provider takes the user and returns its PendingItems (empty when nothing is waiting).
# Later contexts append theirs here, e.g. open notices awaiting objections, contracts to file.
PENDING_PROVIDERS: list[Callable[[object], list[PendingItem]]] = []


def pending_items(user) -> list[PendingItem]:
    items: list[PendingItem] = []
    for provider in PENDING_PROVIDERS:
        items.extend(provider(user))
    return items


# ---------------------------------------------------------------------------------------------
# District officer, hiring entity, planner
# ---------------------------------------------------------------------------------------------


def officer_units(user) -> list[ResponsibilityUnit]:
    """Active units of the districts a district officer is responsible for, with their current
    subdistricts (`current_memberships`, subdistrict loaded) and district. Three queries."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.DISTRICT_OFFICER:
        return []
    return list(
        ResponsibilityUnit.objects.filter(district__in=user.districts.values("pk"), dissolved_at__isnull=True)
        .select_related("district")
        .prefetch_related(_current_memberships(with_subdistrict=True))
        .order_by("district__sort_order", "district__code", "name", "id")
    )


def officer_districts(user) -> list:
    if not getattr(user, "is_authenticated", False) or user.role != Role.DISTRICT_OFFICER:
        return []
    return list(user.districts.select_related("city").order_by("sort_order", "code"))


def entity_subdistricts(user) -> list[Subdistrict]:
    """A hiring entity's own subdistricts, each with its current unit (`current_memberships`)."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.HIRING_ENTITY:
        return []
    return list(
        user.subdistricts.select_related("district__city")
        .prefetch_related(_current_memberships(with_unit=True))
        .order_by("district__sort_order", "district__code", "code")
    )


def planner_profile(user):
    """The registry record linked to this login, or None. Adds `specialty_labels`."""
    from rpms.registry.models import Planner

    planner = Planner.objects.select_related("city", "city__policy").filter(user=user).first()
    if planner is None:
        return None
    try:
        profile = planner.city.policy
    except PolicyProfile.DoesNotExist:
        profile = None
    labels = []
    for item in planner.specialties or []:
        if isinstance(item, dict):
            labels.append(str(item.get("label") or item.get("code") or ""))
        elif profile is not None:
            labels.append(profile.specialty_label(item))
        else:
            labels.append(str(item))
    planner.specialty_labels = [label for label in labels if label]
    return planner
