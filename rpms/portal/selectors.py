"""Reads behind the portal: the public "find my planner" lookup and each role's home page.

Every list here is bounded and uses select_related/prefetch_related, so its query count does not
grow with the number of rows. The public lookup returns only public facts (names of places and
units, and later the appointed planners' public cards) — never anyone's mobile or ID number."""
import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

from rpms.accounts.models import Role
from rpms.cities.models import City, PolicyProfile
from rpms.core.pending import PendingItem, pending_items  # noqa: F401 - the role home pages show them
from rpms.geography import selectors as geography_selectors
from rpms.geography.models import District, ResponsibilityUnit, Subdistrict, UnitMembership

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
    """What the public may see of a planner serving a unit (B19(7)): names, employer, term and a public
    contact channel (the suggestion form) — never a mobile or an ID number."""

    name: str
    employer: str = ""
    role_label: str = ""
    contact: str = ""  # a public contact channel, never a personal mobile
    leader_name: str = ""
    kind_label: str = ""
    core_members: tuple[str, ...] = ()  # "姓名（专业）" of a team's core members
    start: str = ""
    end: str = ""  # the last day of service
    status: str = ""
    status_label: str = ""


@dataclass(frozen=True)
class PublicActivity:
    """One line of a unit's recent public activity: a public reply to a suggestion, a published case."""

    kind: str  # "suggestion_reply" | "case"
    kind_label: str
    date: object
    title: str
    text: str = ""
    author: str = ""
    url: str = ""


@dataclass(frozen=True)
class PlannerLookupRow:
    subdistrict: Subdistrict
    unit: ResponsibilityUnit | None
    planners: tuple[PublicPlannerCard, ...] = ()
    activity: tuple[PublicActivity, ...] = ()

    @property
    def district(self):
        return self.subdistrict.district

    @property
    def city(self):
        return self.subdistrict.district.city

    @property
    def suggestion_url(self) -> str:
        """The suggestion form of the unit, with this street preselected (#5)."""
        if self.unit is None:
            return ""
        from django.urls import reverse

        return reverse("suggestions:public_submit", args=[self.unit.pk]) + f"?street={self.subdistrict.code}"


@dataclass(frozen=True)
class PlannerLookup:
    query: str
    rows: list[PlannerLookupRow] = field(default_factory=list)
    has_more: bool = False  # more matches than shown: ask for a fuller name
    searched_for: str = ""  # the shorter name actually searched when the full one found nothing
    districts: tuple = ()  # districts whose name matches: offered as a link to their coverage page


# A resident may type the full name of a street office or a community; when that finds nothing the
# search is retried without these endings ("万寿路社区" → "万寿路", "温泉镇人民政府" → "温泉").
NAME_ENDINGS = ("街道办事处", "社区居民委员会", "社区居委会", "村民委员会", "人民政府", "办事处", "居委会", "村委会",
                "管委会", "社区", "街道", "地区", "政府", "镇", "乡", "村")
RECENT_ACTIVITY_PER_UNIT = 3


def normalise_query(q) -> str:
    return " ".join(str(q or "").split())[:SEARCH_MAX_LENGTH]


def _shorter_name(query: str) -> str:
    for _ in range(2):  # "温泉镇人民政府" → "温泉镇" → "温泉"
        ending = next((e for e in NAME_ENDINGS if query.endswith(e) and len(query) - len(e) >= 2), None)
        if ending is None:
            break
        query = query[: -len(ending)]
    return query


def public_planners_for_units(units: list[ResponsibilityUnit]) -> dict[int, tuple[PublicPlannerCard, ...]]:
    """Unit id → the public cards of the planners serving it (filed, disclosed appointments; B19(7)),
    in one bounded set of queries over the given units."""
    from rpms.appointments.selectors import public_cards_for_units

    if not units:
        return {}
    cards = public_cards_for_units(units)
    return {
        unit_id: tuple(
            PublicPlannerCard(
                name=c["planner_name"], employer=c.get("employer", ""), role_label=c.get("role_label", ""),
                contact=c.get("contact", ""), leader_name=c.get("leader_name", ""),
                kind_label=c.get("planner_kind_label", ""),
                core_members=tuple(
                    f"{m['name']}（{m['specialty_label']}）" if m.get("specialty_label") else m["name"]
                    for m in c.get("core_members", [])
                ),
                start=c.get("start", ""), end=c.get("last_day", "") or c.get("end", ""),
                status=c.get("status", ""), status_label=c.get("status_label", ""),
            )
            for c in unit_cards
        )
        for unit_id, unit_cards in cards.items()
    }


def _excerpt(text: str, length: int = 80) -> str:
    """Typed text shortened for a public page: masked first (rpms.core.masking), so that no cut leaves
    part of a phone or identity number readable."""
    from rpms.core.masking import mask_public_text

    text = " ".join(mask_public_text(text).split())
    return text if len(text) <= length else text[: length - 1] + "…"


def recent_public_activity(units: list[ResponsibilityUnit], *, per_unit: int = RECENT_ACTIVITY_PER_UNIT) -> dict[int, tuple[PublicActivity, ...]]:
    """Unit id → its latest public activity, newest first: public replies to visible suggestions
    (rpms.suggestions) and published recommended cases (rpms.cases).
    A bounded number of queries whatever the number of units; nothing personal is loaded."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber
    from django.urls import reverse

    ids = [u.pk for u in units]
    if not ids:
        return {}
    from rpms.suggestions.models import SuggestionReply, released_q

    replies = (
        SuggestionReply.objects.filter(released_q("suggestion__"), suggestion__unit_id__in=ids,
                                       suggestion__hidden_at__isnull=True)
        .select_related("suggestion")
        .only("id", "text", "author_label", "replied_at", "suggestion__id", "suggestion__unit_id",
              "suggestion__content", "suggestion__category")
        .annotate(rank=Window(RowNumber(), partition_by=[F("suggestion__unit_id")],
                              order_by=[F("replied_at").desc(), F("id").desc()]))
        .filter(rank__lte=per_unit)
    )
    result: dict[int, list[PublicActivity]] = {}
    for reply in replies:
        unit_id = reply.suggestion.unit_id
        result.setdefault(unit_id, []).append(PublicActivity(
            kind="suggestion_reply", kind_label="答复居民意见建议", date=timezone.localtime(reply.replied_at).date(),
            title=_excerpt(reply.suggestion.content, 40), text=_excerpt(reply.text), author=reply.author_label,
            url=reverse("suggestions:public_unit", args=[unit_id]),
        ))
    from rpms.cases.models import Case  # recommended cases (优秀案例, P3(4)) published by the city

    cases = (
        Case.objects.published().filter(unit_id__in=ids)
        .only("id", "unit_id", "title", "summary", "published_at")
        .annotate(rank=Window(RowNumber(), partition_by=[F("unit_id")],
                              order_by=[F("published_at").desc(), F("id").desc()]))
        .filter(rank__lte=per_unit)
    )
    for case in cases:
        result.setdefault(case.unit_id, []).append(PublicActivity(
            kind="case", kind_label="优秀案例", date=timezone.localtime(case.published_at).date(),
            title=_excerpt(case.title, 120), text=_excerpt(case.summary), url=reverse("cases:public_detail", args=[case.pk]),
        ))
    return {
        unit_id: tuple(sorted(items, key=lambda a: a.date, reverse=True)[:per_unit])
        for unit_id, items in result.items()
    }


def _attach_policies(cities: list[City]) -> None:
    """Loads the policy profiles of the rows' cities in one query, so that citing each row's article
    (the `article_link` tag) costs nothing per row."""
    ids = {c.pk for c in cities}
    if not ids:
        return
    profiles = {p.city_id: p for p in PolicyProfile.objects.filter(city_id__in=ids)}
    for city in cities:
        if city.pk in profiles:
            city.policy = profiles[city.pk]


def planner_lookup(*, q, city: City | None = None, limit: int = SEARCH_DEFAULT_LIMIT) -> PlannerLookup:
    """The public "find my planner" search: place → its unit → who serves it, their term, employer and
    public contact channel, the unit's recent public activity, and the suggestion form."""
    query = normalise_query(q)
    if not query:
        return PlannerLookup(query="")
    searched_for = query
    # geography's search gives each subdistrict its `current_unit` (None when in no active unit)
    found = geography_selectors.subdistrict_search(q=query, city=city, limit=limit + 1)
    if not found:
        shorter = _shorter_name(query)
        if shorter != query:
            found = geography_selectors.subdistrict_search(q=shorter, city=city, limit=limit + 1)
            if found:
                searched_for = shorter
    has_more = len(found) > limit
    found = found[:limit]
    _attach_policies([s.district.city for s in found])
    units = {s.pk: s.current_unit for s in found if s.current_unit is not None}
    distinct_units = list({u.pk: u for u in units.values()}.values())
    planners = public_planners_for_units(distinct_units)
    activity = recent_public_activity(distinct_units)
    rows = []
    for subdistrict in found:
        unit = units.get(subdistrict.pk)
        rows.append(PlannerLookupRow(
            subdistrict=subdistrict, unit=unit,
            planners=planners.get(unit.pk, ()) if unit else (),
            activity=activity.get(unit.pk, ()) if unit else (),
        ))
    districts = District.objects.filter(name__contains=_shorter_name(query).removesuffix("区") or query)
    if city is not None:
        districts = districts.filter(city=city)
    return PlannerLookup(
        query=query, rows=rows, has_more=has_more, searched_for=searched_for if searched_for != query else "",
        districts=tuple(districts.select_related("city").order_by("city__sort_order", "sort_order", "code")[:3]),
    )


def public_cities() -> list[City]:
    return list(City.objects.filter(is_active=True).order_by("sort_order", "code"))


def public_cities_cached() -> list[City]:
    """public_cities() from the shared cache (bumped when a city is saved: rpms.publicinfo.invalidation)."""
    from rpms.core import pubcache
    from rpms.publicinfo.invalidation import CITIES_SCOPE

    return pubcache.get_or_build(CITIES_SCOPE, "portal:public_cities", public_cities)


# ---------------------------------------------------------------------------------------------
# City administrator: coverage and pending work
# ---------------------------------------------------------------------------------------------


UNCOVERED_UNITS_SHOWN = 10


def coverage_overview(city: City) -> dict:
    """B4 coverage of the city for its administrator's home page.

    units / covered / uncovered (counts) and the first `uncovered_units` come from geography's
    `coverage_summary` (a unit is covered once it has an active appointment; only the units shown are
    loaded); the subdistrict figures show how much of the city is not yet in any unit (counted in SQL)."""
    from django.db.models import Count, Q

    summary = geography_selectors.coverage_summary(city, uncovered_limit=UNCOVERED_UNITS_SHOWN)
    in_active_unit = UnitMembership.objects.filter(
        subdistrict=OuterRef("pk"), left_at__isnull=True, unit__dissolved_at__isnull=True
    )
    counts = Subdistrict.objects.filter(district__city=city).annotate(in_unit=Exists(in_active_unit)).aggregate(
        all=Count("id"), unassigned=Count("id", filter=Q(in_unit=False)))
    return {
        "units": summary["units"],
        "covered": summary["covered"],
        "uncovered": summary["uncovered_total"],
        "uncovered_units": summary["uncovered"],
        "subdistricts": counts["all"],
        "subdistricts_unassigned": counts["unassigned"],
    }


# The "待办事项" panel: every app registers its provider in rpms.core.pending (CONVENTIONS, layers).


# ---------------------------------------------------------------------------------------------
# District officer, hiring entity, planner
# ---------------------------------------------------------------------------------------------


def officer_units(user) -> list[ResponsibilityUnit]:
    """Active units of the districts a district officer is responsible for, with their current
    subdistricts (`current_memberships`, subdistrict loaded) and district. Three queries."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.DISTRICT_OFFICER:
        return []
    return list(_officer_units(user).select_related("district").prefetch_related(_current_memberships(with_subdistrict=True)))


def _officer_units(user):
    return (ResponsibilityUnit.objects.filter(district__in=user.districts.values("pk"), dissolved_at__isnull=True)
            .order_by("district__sort_order", "district__code", "name", "id"))


OFFICER_UNITS_SHOWN = 50


def officer_units_shown(user, *, limit: int = OFFICER_UNITS_SHOWN) -> tuple[list[ResponsibilityUnit], int]:
    """The first `limit` units of `officer_units` and how many there are (the home page names the first ones and
    links to the paged units list; issue #15: a district of 10× Beijing listed all its units on every visit)."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.DISTRICT_OFFICER:
        return [], 0
    units = list(_officer_units(user).select_related("district")
                 .prefetch_related(_current_memberships(with_subdistrict=True))[:limit])
    total = _officer_units(user).count()  # always counted: the same queries however many units
    return units, total


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


# ---------------------------------------------------------------------------------------------
# The to-do list at the top of every staff home page (issue #17): oldest deadline first
# ---------------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def pending_due_date(item: PendingItem) -> dt.date | None:
    """The date an item's deadline text names ("最早 2026-03-12 到期", "最早答复期限 2026-03-12"), or None."""
    match = _ISO_DATE.search(item.due or "")
    if match is None:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def todo_items(user) -> list[PendingItem]:
    """The user's to-do list: every provider's lines (rpms.core.pending) and, for an auditor, the overdue
    matters of its city (`auditor_pending`), ordered by deadline, the oldest first; lines without a date
    come last, warnings before the rest (the sort is stable: providers' order otherwise)."""
    items = list(pending_items(user)) + auditor_pending(user)

    def key(item):
        due = pending_due_date(item)
        return (due is None, due or dt.date.max, item.level != "warn")

    return sorted(items, key=key)


def auditor_pending(user) -> list[PendingItem]:
    """What an auditor should look into (read-only supervision): the matters past their deadline
    that the auditor can open — suggestions unanswered past the reply period (B22), service-fee installments
    unpaid past their last day (B21) — and contracts submitted and still not filed. One aggregate query
    each, whatever the number of rows."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.AUDITOR:
        return []  # an auditor of a city reads that city's; one bound to no city reads every city's (role_scope_q)
    from django.db.models import Count, Min
    from django.urls import reverse

    from rpms.appointments import selectors as appointment_selectors
    from rpms.appointments.models import AppointmentStatus, ContractState
    from rpms.core import clock
    from rpms.finance.selectors import fees_overdue
    from rpms.suggestions.selectors import suggestion_list

    today = clock.today()
    items = []
    overdue = suggestion_list(user=user, overdue=True).order_by().aggregate(n=Count("id"), first=Min("due_on"))
    if overdue["n"]:
        items.append(PendingItem(
            title="超过答复期限未答复的居民意见建议", url=reverse("suggestions:manage_list") + "?overdue=1",
            count=overdue["n"], due=f"最早答复期限 {overdue['first']:%Y-%m-%d}" if overdue["first"] else "", level="warn"))
    fees = fees_overdue(user=user, on=today).order_by().aggregate(n=Count("id"), first=Min("pay_by"))
    if fees["n"]:
        items.append(PendingItem(
            title="逾期未付清的服务费用", url=reverse("finance:fee_list") + "?status=overdue",
            count=fees["n"], due=f"最早 {fees['first']:%Y-%m-%d} 应付清" if fees["first"] else "", level="warn"))
    unfiled = (
        appointment_selectors.appointment_list(user=user).filter(contract_state=ContractState.SUBMITTED)
        .filter(appointment_selectors.status_q(AppointmentStatus.ACTIVE) | appointment_selectors.status_q(appointment_selectors.UPCOMING))
        .order_by().aggregate(n=Count("id"), first=Min("start"))
    )
    if unfiled["n"]:
        items.append(PendingItem(
            title="已提交尚未备案的聘用合同", url=reverse("appointments:list") + "?unfiled=1",
            count=unfiled["n"], due=f"最早 {unfiled['first']:%Y-%m-%d} 起聘" if unfiled["first"] else ""))
    return items


# ---------------------------------------------------------------------------------------------
# Public home: search examples that the data answers (issue #17 item 9)
# ---------------------------------------------------------------------------------------------

SEARCH_EXAMPLES_PER_CITY = 2


@dataclass(frozen=True)
class SearchExample:
    query: str  # what to type: the subdistrict's name without its ending ("学院路街道" → "学院路")
    city: City

    @property
    def url(self) -> str:
        from urllib.parse import urlencode

        from django.urls import reverse

        return reverse("portal:find_planner") + "?" + urlencode({"q": self.query, "city": self.city.code})


def search_examples(cities: list[City], *, per_city: int = SEARCH_EXAMPLES_PER_CITY) -> list[SearchExample]:
    """Example searches for the public home page, taken from the data: a subdistrict of each of the first units
    (by district and name) of the given cities that hold a public appointment (filed, disclosed, not over), so
    that each example finds its street and the planner serving it. Two small queries: the units are ranked from
    the appointments (few rows), then only the chosen units' memberships are read."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    from rpms.appointments.selectors import public_queryset

    ids = [c.pk for c in cities]
    if not ids:
        return []
    ranked = (
        public_queryset().filter(city_id__in=ids).prefetch_related(None).select_related(None).order_by()
        .annotate(rank=Window(RowNumber(), partition_by=[F("city_id")], order_by=[
            F("unit__district__sort_order").asc(), F("unit__district__code").asc(), F("unit__name").asc(),
            F("unit_id").asc(), F("id").asc()]))
        .filter(rank__lte=per_city * 4)  # a unit holds one appointment per role: enough rows for `per_city` units
        .values_list("city_id", "unit_id", "rank")
    )
    units_by_city: dict[int, list[int]] = {}
    for city_id, unit_id, _rank in sorted(ranked, key=lambda row: row[2]):
        chosen = units_by_city.setdefault(city_id, [])
        if unit_id not in chosen and len(chosen) < per_city:
            chosen.append(unit_id)
    unit_ids = [u for chosen in units_by_city.values() for u in chosen]
    if not unit_ids:
        return []
    first_street: dict[int, str] = {}
    memberships = (UnitMembership.objects.filter(unit_id__in=unit_ids, left_at__isnull=True)
                   .order_by("unit_id", "subdistrict__code").values_list("unit_id", "subdistrict__name"))
    for unit_id, name in memberships:
        first_street.setdefault(unit_id, name)
    examples = []
    for city in cities:
        for unit_id in units_by_city.get(city.pk, []):
            if unit_id in first_street:
                examples.append(SearchExample(query=_shorter_name(first_street[unit_id]), city=city))
    return examples
