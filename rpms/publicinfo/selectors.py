"""Public information reads.

Public reads return only published records: announcements whose publish date has come, published
interpretations, the recruitment calls and notices the recruitment context publishes, the coverage of
active units (B4) with the public cards of disclosed appointments (B19(7)) — never an ID number, a
mobile or anyone's contact details. Management reads are scoped by rpms.publicinfo.permissions.

Every list is a fixed number of queries whatever the number of rows."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch
from django.urls import reverse
from django.utils import timezone

from rpms.cities.models import City
from rpms.core import clock
from rpms.core.errors import DomainError, NotFound
from rpms.core.params import is_digits, page_number
from rpms.geography import selectors as geography_selectors
from rpms.geography.models import District, ResponsibilityUnit, UnitMembership

from . import geo, policies
from .models import Announcement, AnnouncementAttachment, AnnouncementKind, Interpretation, PublicationStatus
from .permissions import require_manager_reader

PAGE_SIZE = 20
PAGE_MAX = 500


def public_cities() -> list[City]:
    return list(City.objects.filter(is_active=True).select_related("policy").order_by("sort_order", "code"))


def city_from_params(params, *, cities: list[City] | None = None, default_first: bool = False) -> City | None:
    """The city named by `?city=<code>` (unknown → 404), or None / the first city."""
    cities = cities if cities is not None else public_cities()
    code = str(params.get("city") or "").strip()
    if code:
        city = next((c for c in cities if c.code == code), None)
        if city is None:
            raise NotFound(f"城市“{code}”不存在。", code="city_not_found")
        return city
    return cities[0] if default_first and cities else None


def page_from_params(params) -> int:
    return page_number(str(params.get("page") or "1"), maximum=PAGE_MAX)


# =============================================================================================
# Announcements (公示公告) and the recruitment notices shown with them
# =============================================================================================


@dataclass(frozen=True)
class FeedItem:
    """One line of the public announcement list, whatever its source."""

    source: str  # announcement | recruitment_notice | recruitment_call
    kind: str
    kind_label: str
    title: str
    date: dt.date
    city: City
    url: str
    attachment_count: int = 0
    window_start: dt.date | None = None  # a notice's period, a call's deadline (window_end)
    window_end: dt.date | None = None
    state_label: str = ""
    is_open: bool = False
    objection_url: str = ""  # where the public objects to a notice while it is open (P5(2), B19(7))
    apply_url: str = ""


@dataclass
class FeedFilters:
    city: City | None = None
    kind: str = ""
    year: int | None = None
    q: str = ""

    def as_query(self) -> dict:
        return {k: v for k, v in {"city": self.city.code if self.city else "", "kind": self.kind,
                                   "year": self.year or "", "q": self.q}.items() if v not in (None, "")}


def feed_filters(params, *, cities: list[City] | None = None) -> FeedFilters:
    kind = str(params.get("kind") or "").strip()
    if kind and kind not in AnnouncementKind.values:
        options = "、".join(f"{code}（{label}）" for code, label in AnnouncementKind.choices)
        raise DomainError(f"未知的公告类别“{kind}”，可选：{options}。", code="invalid_kind")
    raw_year = str(params.get("year") or "").strip()
    if raw_year and not (is_digits(raw_year) and 2000 <= int(raw_year) <= 2100):
        raise DomainError("年份应为四位数字，如 2026。", code="invalid_year")
    return FeedFilters(
        city=city_from_params(params, cities=cities), kind=kind, year=int(raw_year) if raw_year else None,
        q=" ".join(str(params.get("q") or "").split())[:50],
    )


def public_announcements(*, today: dt.date | None = None):
    today = today or clock.today()
    return (
        Announcement.objects.filter(status=PublicationStatus.PUBLISHED, publish_on__lte=today, city__is_active=True)
        .select_related("city")
        .annotate(attachment_count=Count("attachments"))
    )


def _announcement_sources(filters: FeedFilters, today: dt.date):
    """(queryset, date field, to_item) per source, each already filtered."""
    from rpms.recruitment.models import CallStatus, OpenCall, PublicNotice

    sources = []
    announcements = public_announcements(today=today)
    if filters.city is not None:
        announcements = announcements.filter(city=filters.city)
    if filters.kind:
        announcements = announcements.filter(kind=filters.kind)
    if filters.year:
        announcements = announcements.filter(publish_on__year=filters.year)
    if filters.q:
        announcements = announcements.filter(title__icontains=filters.q)
    sources.append((announcements.order_by("-publish_on", "-id"), _announcement_item))

    if filters.kind in ("", AnnouncementKind.NOTICE):
        notices = PublicNotice.objects.filter(city__is_active=True).select_related("city", "call")
        if filters.city is not None:
            notices = notices.filter(city=filters.city)
        if filters.year:
            notices = notices.filter(start__year=filters.year)
        if filters.q:
            notices = notices.filter(title__icontains=filters.q)
        sources.append((notices.order_by("-start", "-id"), lambda n: _notice_item(n, today)))

    if filters.kind in ("", AnnouncementKind.CALL):
        calls = OpenCall.objects.filter(status=CallStatus.PUBLISHED, city__is_active=True).select_related("city")
        if filters.city is not None:
            calls = calls.filter(city=filters.city)
        if filters.year:
            calls = calls.filter(published_at__year=filters.year)
        if filters.q:
            calls = calls.filter(title__icontains=filters.q)
        sources.append((calls.order_by("-published_at", "-id"), lambda c: _call_item(c, today)))

    if filters.kind in ("", AnnouncementKind.HONOURS):
        honour_lists = _honour_lists(filters)
        if honour_lists is not None:
            sources.append((honour_lists, _honour_item))
    return sources


class _Rows(list):
    """A list that answers count() like a queryset (the feed counts and slices each source)."""

    def count(self):
        return len(self)


def _honour_lists(filters: FeedFilters):
    """The published lists of outstanding planners (B24, rpms.assessments), one entry per city and year,
    newest first (one query)."""
    from django.db.models import Max

    from rpms.assessments.models import Honour

    queryset = Honour.objects.filter(published_at__isnull=False, status="selected", city__is_active=True)
    if filters.city is not None:
        queryset = queryset.filter(city=filters.city)
    if filters.year:
        queryset = queryset.filter(year=filters.year)
    cities = {c.pk: c for c in public_cities()}
    rows = []
    for row in queryset.values("city_id", "year").annotate(published=Max("published_at"), count=Count("id")):
        city = cities.get(row["city_id"])
        if city is None:
            continue
        row["city"] = city
        row["title"] = f"{city.name}{row['year']}年度{city.policy.honour_title}名单"
        if filters.q and filters.q.lower() not in row["title"].lower():
            continue
        rows.append(row)
    rows.sort(key=lambda r: (r["published"], r["year"]), reverse=True)
    return _Rows(rows)


def _honour_item(row: dict) -> FeedItem:
    from urllib.parse import urlencode

    return FeedItem(
        source="honour_list", kind=AnnouncementKind.HONOURS, kind_label="表彰名单", title=row["title"],
        date=timezone.localtime(row["published"]).date(), city=row["city"],
        url=reverse("assessments:honours_public") + "?" + urlencode({"city": row["city"].code, "year": row["year"]}),
        state_label=f"共 {row['count']} 名",
    )


def _announcement_item(a: Announcement) -> FeedItem:
    return FeedItem(
        source="announcement", kind=a.kind, kind_label=a.get_kind_display(), title=a.title, date=a.publish_on,
        city=a.city, url=a.get_absolute_url(), attachment_count=getattr(a, "attachment_count", 0),
    )


def _notice_item(notice, today) -> FeedItem:
    url = reverse("recruitment:notice_detail", args=[notice.pk])
    is_open = notice.is_open(today)
    return FeedItem(
        source="recruitment_notice", kind=AnnouncementKind.NOTICE, kind_label="入库公示", title=notice.title,
        date=notice.start, city=notice.city, url=url, window_start=notice.start, window_end=notice.end,
        state_label=notice.state_label(today), is_open=is_open, objection_url=url if is_open else "",
    )


def _call_item(call, today) -> FeedItem:
    url = reverse("recruitment:call_detail", args=[call.pk])
    is_open = call.accepts_applications(today)
    return FeedItem(
        source="recruitment_call", kind=AnnouncementKind.CALL, kind_label=call.get_kind_display(), title=call.title,
        date=timezone.localtime(call.published_at).date() if call.published_at else call.created_at.date(),
        city=call.city, url=url, window_end=call.deadline, state_label="报名中" if is_open else "报名已截止",
        is_open=is_open, apply_url=url if is_open else "",
    )


@dataclass
class FeedPage:
    items: list[FeedItem]
    total: int
    page: int
    pages: int
    filters: FeedFilters = field(default_factory=FeedFilters)


def announcement_feed(*, filters: FeedFilters | None = None, page: int = 1, page_size: int = PAGE_SIZE,
                      today: dt.date | None = None) -> FeedPage:
    """The public list: published announcements with the recruitment calls and notices, newest first.
    Two queries per source (count and the first page*size rows), whatever the number of rows."""
    filters = filters or FeedFilters()
    today = today or clock.today()
    total, merged = 0, []
    for queryset, to_item in _announcement_sources(filters, today):
        total += queryset.count()
        merged.extend(to_item(obj) for obj in queryset[: page * page_size])
    merged.sort(key=lambda item: (item.date, item.source == "announcement", item.url), reverse=True)
    start = (page - 1) * page_size
    pages = max(1, -(-total // page_size))
    return FeedPage(items=merged[start:start + page_size], total=total, page=page, pages=pages, filters=filters)


def feed_all(*, city: City | None = None, today: dt.date | None = None) -> list[FeedItem]:
    """Every public item (for the open-data set), newest first. One query per source."""
    today = today or clock.today()
    items = []
    for queryset, to_item in _announcement_sources(FeedFilters(city=city), today):
        items.extend(to_item(obj) for obj in queryset)
    items.sort(key=lambda item: (item.date, item.source == "announcement", item.url), reverse=True)
    return items


def feed_years() -> list[int]:
    """Years with a public announcement, for the filter (one query)."""
    dates = Announcement.objects.filter(
        status=PublicationStatus.PUBLISHED, publish_on__lte=clock.today(), city__is_active=True
    ).dates("publish_on", "year", order="DESC")
    years = {d.year for d in dates} | {clock.today().year}
    return sorted(years, reverse=True)


def public_announcement_get(pk) -> Announcement:
    """A public announcement with its attachments; a draft, a withdrawn or a not-yet-due one → 404."""
    announcement = (
        Announcement.objects.select_related("city__policy")
        .prefetch_related(Prefetch("attachments", queryset=AnnouncementAttachment.objects.order_by("uploaded_at", "id")))
        .filter(pk=pk).first()
    )
    if announcement is None or not announcement.is_public(clock.today()):
        raise NotFound("公告不存在或尚未发布。", code="announcement_not_found")
    return announcement


def public_attachment_get(*, announcement_id, attachment_id) -> AnnouncementAttachment:
    attachment = (
        AnnouncementAttachment.objects.select_related("announcement")
        .filter(pk=attachment_id, announcement_id=announcement_id).first()
    )
    if attachment is None or not attachment.announcement.is_public(clock.today()):
        raise NotFound("附件不存在或公告尚未发布。", code="attachment_not_found")
    return attachment


# --- management -------------------------------------------------------------------------------------


def manage_city(user, params) -> City:
    """The city whose records a manager works on: their own; a superuser or a city-less auditor picks
    one with ?city= (default the first)."""
    require_manager_reader(user)
    if user.city_id and not user.is_superuser:
        city = City.objects.select_related("policy").filter(pk=user.city_id).first()
        if city is None:
            raise NotFound()
        return city
    city = city_from_params(params, default_first=True)
    if city is None:
        raise NotFound("尚未配置城市。", code="city_not_found")
    return city


def manage_announcements(*, user, city: City):
    require_manager_reader(user, city)
    return (
        Announcement.objects.filter(city=city)
        .select_related("city", "created_by", "published_by")
        .annotate(attachment_count=Count("attachments"))
        .order_by("-created_at", "-id")
    )


def manage_announcement_get(*, user, pk) -> Announcement:
    announcement = (
        Announcement.objects.select_related("city__policy", "created_by", "published_by", "withdrawn_by")
        .prefetch_related(Prefetch("attachments", queryset=AnnouncementAttachment.objects.order_by("uploaded_at", "id")))
        .filter(pk=pk).first()
    )
    if announcement is None:
        raise NotFound("公告不存在。", code="announcement_not_found")
    require_manager_reader(user, announcement.city)
    return announcement


def manage_attachment_get(*, user, announcement_id, attachment_id) -> AnnouncementAttachment:
    attachment = (
        AnnouncementAttachment.objects.select_related("announcement__city")
        .filter(pk=attachment_id, announcement_id=announcement_id).first()
    )
    if attachment is None:
        raise NotFound("附件不存在。", code="attachment_not_found")
    require_manager_reader(user, attachment.announcement.city)
    return attachment


def manage_interpretations(*, user, city: City):
    require_manager_reader(user, city)
    return Interpretation.objects.filter(city=city).select_related("city", "created_by", "published_by").order_by(
        "-created_at", "-id"
    )


def manage_interpretation_get(*, user, pk) -> Interpretation:
    interpretation = (
        Interpretation.objects.select_related("city__policy", "created_by", "published_by", "withdrawn_by")
        .filter(pk=pk).first()
    )
    if interpretation is None:
        raise NotFound("政策解读不存在。", code="interpretation_not_found")
    require_manager_reader(user, interpretation.city)
    return interpretation


# =============================================================================================
# Policy documents and interpretations (政策文件解读)
# =============================================================================================


@dataclass
class ArticleView:
    article: policies.PolicyArticle
    notes: list[dict]  # {"interpretation", "codes": the codes of this article it explains}


def public_interpretations(city: City):
    return Interpretation.objects.filter(city=city, status=PublicationStatus.PUBLISHED).order_by("-published_at", "-id")


def policy_page(city: City) -> dict:
    """The city's rule book with every article, and its published interpretations placed beside the
    articles (or items) they explain. One query."""
    document = policies.rulebook(city)
    if document is None:
        raise NotFound(f"{city.name}尚未提供制度文件。", code="rulebook_missing")
    interpretations = list(public_interpretations(city))
    for interpretation in interpretations:
        interpretation.article_refs = [
            {"code": code, "anchor": policies.anchor_for(code), "label": document.describe(code)}
            for code in interpretation.articles or []
        ]
    chapters = []
    for chapter, articles in document.chapters:
        views = []
        for article in articles:
            notes = []
            for interpretation in interpretations:
                codes = [ref for ref in interpretation.article_refs
                         if getattr(document.article_of(ref["code"]), "code", None) == article.code]
                if codes:
                    notes.append({"interpretation": interpretation, "codes": codes})
            views.append(ArticleView(article=article, notes=notes))
        chapters.append((chapter, views))
    return {"document": document, "chapters": chapters, "interpretations": interpretations}


def public_interpretation_get(*, city: City, pk) -> Interpretation:
    interpretation = public_interpretations(city).filter(pk=pk).first()
    if interpretation is None:
        raise NotFound("政策解读不存在或尚未发布。", code="interpretation_not_found")
    document = policies.rulebook(city)
    interpretation.article_refs = [
        {"code": code, "anchor": policies.anchor_for(code),
         "label": document.describe(code) if document else "",
         "text": document.get(code).text if document and document.get(code) else ""}
        for code in interpretation.articles or []
    ]
    return interpretation


# =============================================================================================
# Coverage map (一张图, B4)
# =============================================================================================


@dataclass(frozen=True)
class CoverageBand:
    code: str
    label: str
    fill: str


# A sequential scale (ColorBrewer YlGnBu, readable for colour-blind visitors) plus grey for a district
# without any active unit; the numbers are always given in text as well.
COVERAGE_BANDS = (
    CoverageBand("none", "暂无责任单元", "#d9d9d9"),
    CoverageBand("zero", "尚未覆盖（0%）", "#ffffcc"),
    CoverageBand("low", "部分覆盖（低于 50%）", "#a1dab4"),
    CoverageBand("mid", "过半覆盖（50%–79%）", "#41b6c4"),
    CoverageBand("high", "基本覆盖（80%–99%）", "#2c7fb8"),
    CoverageBand("full", "全覆盖（100%）", "#253494"),
)
_BANDS = {band.code: band for band in COVERAGE_BANDS}
VACANT_LABEL = "空缺"


def coverage_band(total: int, covered: int) -> CoverageBand:
    if total == 0:
        return _BANDS["none"]
    if covered >= total:
        return _BANDS["full"]
    ratio = covered / total
    if ratio >= 0.8:
        return _BANDS["high"]
    if ratio >= 0.5:
        return _BANDS["mid"]
    if covered > 0:
        return _BANDS["low"]
    return _BANDS["zero"]


@dataclass
class UnitCoverage:
    unit: object
    covered: bool
    cards: list[dict]  # public cards (appointments.selectors.public_card) of disclosed appointments

    @property
    def subdistrict_names(self) -> list[str]:
        return [s.name for s in self.unit.current_subdistricts]

    @property
    def serving(self) -> list[dict]:
        return [c for c in self.cards if c["status"] == "active"]

    @property
    def upcoming(self) -> list[dict]:
        return [c for c in self.cards if c["status"] != "active"]

    @property
    def planner_names(self) -> list[str]:
        return [c["planner_name"] + ("（团队）" if c["planner_kind"] == "team" else "") for c in self.serving]

    @property
    def status_label(self) -> str:
        """The planner name(s); "空缺" when nobody serves the unit; a note when an appointment is in
        force but not yet filed and disclosed (B19(3), B19(7))."""
        if self.planner_names:
            return "、".join(self.planner_names)
        if self.covered:
            return "已派驻（聘用信息待备案公开）"
        return VACANT_LABEL


@dataclass
class DistrictCoverage:
    """A district's coverage: its counts (from one grouped query: `counts` = (units, covered)) and, on the
    district's own page, a page of its units (`units`)."""

    district: District
    units: list[UnitCoverage]
    shape: geo.DistrictShape | None = None
    counts: tuple[int, int] | None = None
    page: int = 1
    pages: int = 1

    @property
    def total(self) -> int:
        return self.counts[0] if self.counts is not None else len(self.units)

    @property
    def short_name(self) -> str:
        """"海淀" for 海淀区 (map labels); names that are only "X区" keep it."""
        name = self.district.name
        return name[:-1] if name.endswith("区") and len(name) > 2 else name

    @property
    def covered(self) -> int:
        return self.counts[1] if self.counts is not None else sum(1 for u in self.units if u.covered)

    @property
    def vacant(self) -> int:
        return self.total - self.covered

    @property
    def ratio(self) -> float | None:
        return self.covered / self.total if self.total else None

    @property
    def percent(self) -> str:
        return "—" if self.ratio is None else f"{self.ratio:.1%}".replace(".0%", "%")

    @property
    def band(self) -> CoverageBand:
        return coverage_band(self.total, self.covered)

    @property
    def summary(self) -> str:
        if not self.total:
            return f"{self.district.name}：暂无责任单元"
        return f"{self.district.name}：责任单元 {self.total} 个，已覆盖 {self.covered} 个（{self.percent}），空缺 {self.vacant} 个"


@dataclass
class CityCoverage:
    city: City
    districts: list[DistrictCoverage]
    outline: geo.MapOutline | None

    @property
    def total(self) -> int:
        return sum(d.total for d in self.districts)

    @property
    def covered(self) -> int:
        return sum(d.covered for d in self.districts)

    @property
    def percent(self) -> str:
        return "—" if not self.total else f"{self.covered / self.total:.1%}".replace(".0%", "%")

    @property
    def totals(self) -> dict:
        return {"total": self.total, "covered": self.covered, "vacant": self.total - self.covered,
                "percent": self.percent}

    @property
    def mapped(self) -> list[DistrictCoverage]:
        return [d for d in self.districts if d.shape is not None]

    @property
    def unmapped(self) -> list[DistrictCoverage]:
        return [d for d in self.districts if d.shape is None]


DISTRICT_UNITS_PAGE_SIZE = 100


def _public_cards_by_unit(city: City, unit_ids) -> dict[int, list[dict]]:
    """Unit id → the public cards of the given units' disclosed appointments. The policy profile is read once
    (rpms.cities.selectors.attach_policies), never joined into the rows."""
    from rpms.appointments.selectors import public_card, public_queryset
    from rpms.cities.selectors import attach_policies

    queryset = (public_queryset(city=city).filter(unit_id__in=list(unit_ids))
                .select_related(None).select_related("city", "unit__district", "planner"))
    cards: dict[int, list[dict]] = {}
    for appointment in attach_policies(list(queryset), "city"):
        cards.setdefault(appointment.unit_id, []).append(public_card(appointment))
    return cards


def units_coverage(city: City, units: list) -> list[UnitCoverage]:
    """The given units (of `city`, with `current_subdistricts` loaded) with whether each is covered today (B4,
    the one definition: rpms.appointments.selectors) and the public cards of who serves it. Two queries."""
    from rpms.appointments.selectors import appointments_serving

    ids = [u.pk for u in units]
    if not ids:
        return []
    covered = set(appointments_serving(city=city).filter(unit_id__in=ids).values_list("unit_id", flat=True))
    cards = _public_cards_by_unit(city, ids)
    return [UnitCoverage(unit=u, covered=u.pk in covered, cards=cards.get(u.pk, [])) for u in units]


def city_coverage(city: City) -> CityCoverage:
    """Every district of the city with its counts of units and covered units (B4: one grouped query, the one
    definition of coverage in rpms.appointments.selectors), and the districts' outlines. The units themselves
    are listed on a district's own page (`district_coverage`). Two queries whatever the number of units."""
    from rpms.appointments.selectors import coverage_by_district

    districts = list(District.objects.filter(city=city).order_by("sort_order", "code"))
    counts = coverage_by_district(city=city)
    outline = geo.outline_for([d.code for d in districts])
    return CityCoverage(
        city=city,
        districts=[
            DistrictCoverage(district=d, units=[], shape=outline.shape(d.code) if outline else None,
                             counts=(counts.get(d.pk, {}).get("units", 0), counts.get(d.pk, {}).get("covered", 0)))
            for d in districts
        ],
        outline=outline,
    )


def district_get_public(code: str) -> District:
    district = District.objects.select_related("city").filter(code=code, city__is_active=True).first()
    if district is None:
        raise NotFound(f"区划代码“{code}”不存在。", code="district_not_found")
    return district


def district_coverage(code: str, *, page: int = 1, page_size: int | None = None) -> tuple[DistrictCoverage, list]:
    """One district's counts (as on the map), a page of its units with their planners or "空缺", and its
    subdistricts in no active unit. A fixed number of queries whatever the number of units."""
    from rpms.appointments.selectors import coverage_by_district
    from rpms.cities.selectors import attach_policies

    page_size = page_size or DISTRICT_UNITS_PAGE_SIZE
    district = district_get_public(code)
    city = district.city
    attach_policies([district], "city")
    row = coverage_by_district(city=city, district_ids=[district.pk]).get(district.pk, {})
    counts = (row.get("units", 0), row.get("covered", 0))
    pages = max(1, -(-counts[0] // page_size))
    page = max(1, min(page, pages))
    start = (page - 1) * page_size
    units = list(
        ResponsibilityUnit.objects.filter(district=district, dissolved_at__isnull=True)
        .select_related("district")
        .prefetch_related(Prefetch("memberships", queryset=UnitMembership.objects.filter(left_at__isnull=True)
                                   .select_related("subdistrict").order_by("subdistrict__code"),
                                   to_attr="active_memberships"))
        .order_by("name", "id")[start:start + page_size]
    )
    coverage = DistrictCoverage(district=district, units=units_coverage(city, units), counts=counts,
                                page=page, pages=pages)
    unassigned = [s for s in geography_selectors.subdistrict_list(district=district) if s.current_unit is None]
    return coverage, unassigned
