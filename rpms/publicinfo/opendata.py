"""Open data (开放数据): the public datasets, each as CSV and JSON with a field dictionary. The one front door:
every dataset (the appointments too) is served by rpms.publicinfo.api from the catalogue below.

    appointments        /api/v1/public/appointments.*      (rpms.appointments, B19(7))
    units               /api/v1/public/units.*             active units and whether each is covered (B4)
    coverage            /api/v1/public/coverage.*          coverage per district (B4)
    notices             /api/v1/public/notices.*           announcements, calls and notices (B22)
    honours             /api/v1/public/honours.*           published honours (B24), once rpms.assessments offers them
    suggestion-stats    /api/v1/public/suggestion-stats.*  suggestions per unit and month (B22, P3(3))

No dataset carries personal data: no ID number, no mobile, no contact detail of anyone, no suggestion
text. Planner names, employers and terms are public by B19(7); suggestion statistics are counts (of
released suggestions only, where the city reviews before publication). Every text value of every row
passes through rpms.core.masking.mask_public_text on its way out (JSON and CSV alike)."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate, TruncMonth
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone

from rpms.core import clock
from rpms.core.errors import DomainError, NotFound
from rpms.core.masking import mask_public_data
from rpms.core.params import is_digits


API_PREFIX = "/api/v1/public/"
SOURCE = "责任规划师管理信息系统"


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: str
    description: str
    fields: tuple[tuple[str, str, str], ...]  # (name, label, description)
    rows: Callable[..., list[dict]] | None  # rows(city=, district=, year=, base_url=)
    filters: tuple[str, ...] = ("city",)
    source: str = ""
    source_note: Callable[[dict], str] | None = None  # the payload's "source" for the filters; default SOURCE
    csv_name: str = ""  # the download's Chinese file name (without .csv); default the title

    @property
    def available(self) -> bool:
        return self.rows is not None

    @property
    def json_url(self) -> str:
        return f"{API_PREFIX}{self.slug}.json"

    @property
    def csv_url(self) -> str:
        return f"{API_PREFIX}{self.slug}.csv"

    @property
    def fields_url(self) -> str:
        return f"{API_PREFIX}{self.slug}/fields"

    def field_dicts(self) -> list[dict]:
        return [{"name": n, "label": label, "description": d} for n, label, d in self.fields]


# --- units and coverage (B4) -----------------------------------------------------------------------------

UNIT_FIELDS = (
    ("city", "城市", "城市名称"),
    ("district_code", "区划代码", "责任单元所在区的统计区划代码"),
    ("district", "所在区", "责任单元所在区（县、开发区）名称"),
    ("zone_type", "功能区类型", "所在区的功能区类型（如首都功能核心区）；未设定为空"),
    ("unit_id", "责任单元编号", "本系统中责任单元的编号"),
    ("unit", "责任单元", "责任单元名称"),
    ("subdistricts", "包含街道乡镇", "责任单元目前包含的街道、镇（乡）、片区，以顿号分隔"),
    ("subdistrict_codes", "街道乡镇代码", "对应的统计区划代码，以顿号分隔"),
    ("covered", "是否已覆盖", "今天是否有在任的责任规划师（是/否），按聘任日期计算"),
    ("planners", "在任责任规划师", "已备案并公开的在任责任规划师（团队）名称，以顿号分隔；空缺为空"),
    ("status", "服务状态", "在任责任规划师名称、“空缺”或“已派驻（聘用信息待备案公开）”"),
    ("url", "公开页面", "该责任单元的公开页面地址"),
)

COVERAGE_FIELDS = (
    ("city", "城市", "城市名称"),
    ("district_code", "区划代码", "区的统计区划代码"),
    ("district", "区", "区（县、开发区）名称"),
    ("zone_type", "功能区类型", "区的功能区类型；未设定为空"),
    ("units", "责任单元数", "该区现有（未撤销）的责任单元数"),
    ("covered", "已覆盖单元数", "今天有在任责任规划师的责任单元数"),
    ("vacant", "空缺单元数", "责任单元数减已覆盖单元数"),
    ("ratio", "覆盖率", "已覆盖单元数 ÷ 责任单元数，0 至 1 之间的小数（保留四位）；无责任单元为空"),
    ("url", "公开页面", "该区责任单元覆盖情况页面地址"),
)


def _zone_label(district) -> str:
    code = district.zone_type
    if not code:
        return ""
    try:
        zone = district.city.policy.zone_type(code)
    except Exception:  # noqa: BLE001 - a city without a policy profile has no labels
        zone = None
    return zone["label"] if zone else code


def _cities(city):
    from .selectors import public_cities

    return [city] if city is not None else public_cities()


def unit_rows(*, city=None, district=None, base_url: str = "", **_ignored) -> list[dict]:
    from rpms.geography.selectors import unit_list

    from .selectors import units_coverage

    rows = []
    for one_city in _cities(city):
        if district is not None and district.city_id != one_city.pk:
            continue
        units = unit_list(city=one_city, district_code=district.code if district is not None else None)
        for unit in units:
            unit.district.city = one_city
        head, tail = reverse("appointments:public_unit", args=[0]).rsplit("0", 1)
        for unit_coverage in units_coverage(one_city, units):
            unit = unit_coverage.unit
            d = unit.district
            subdistricts = unit.current_subdistricts
            rows.append({
                "city": one_city.name,
                "district_code": d.code,
                "district": d.name,
                "zone_type": _zone_label(d),
                "unit_id": unit.pk,
                "unit": unit.name,
                "subdistricts": "、".join(s.name for s in subdistricts),
                "subdistrict_codes": "、".join(s.code for s in subdistricts),
                "covered": "是" if unit_coverage.covered else "否",
                "planners": "、".join(unit_coverage.planner_names),
                "status": unit_coverage.status_label,
                "url": f"{base_url}{head}{unit.pk}{tail}",
            })
    return rows


def coverage_rows(*, city=None, base_url: str = "", **_ignored) -> list[dict]:
    from .selectors import city_coverage

    rows = []
    for one_city in _cities(city):
        for dc in city_coverage(one_city).districts:
            d = dc.district
            d.city = one_city
            rows.append({
                "city": one_city.name,
                "district_code": d.code,
                "district": d.name,
                "zone_type": _zone_label(d),
                "units": dc.total,
                "covered": dc.covered,
                "vacant": dc.vacant,
                "ratio": round(dc.ratio, 4) if dc.ratio is not None else None,
                "url": base_url + reverse("publicinfo:map_district", args=[d.code]),
            })
    return rows


# --- announcements and notices (B22) ---------------------------------------------------------------------

NOTICE_FIELDS = (
    ("source", "来源", "announcement：公示公告；recruitment_notice：入库公示；recruitment_call：征集公告；honour_list：表彰名单"),
    ("kind", "类别代码", "call：征集公告；notice：公示；appointment_list：聘任名单；honours：表彰名单；other：其他公告"),
    ("kind_label", "类别", "征集公告、公示、聘任名单、表彰名单、其他公告等"),
    ("city", "城市", "发布城市"),
    ("title", "标题", "公告标题"),
    ("date", "发布日期", "发布或公示开始日期（YYYY-MM-DD）"),
    ("window_start", "公示开始", "公示的开始日期；其他公告为空"),
    ("window_end", "截止日期", "公示截止日期或征集报名截止日期；其他公告为空"),
    ("state", "状态", "公示中、报名中、已结束等；其他公告为空"),
    ("attachments", "附件数", "公告所附文件数量"),
    ("url", "公开页面", "公告页面地址"),
)


def notice_rows(*, city=None, base_url: str = "", **_ignored) -> list[dict]:
    from .selectors import feed_all

    return [
        {
            "source": item.source,
            "kind": item.kind,
            "kind_label": item.kind_label,
            "city": item.city.name,
            "title": item.title,
            "date": item.date.isoformat() if item.date else "",
            "window_start": item.window_start.isoformat() if item.window_start else "",
            "window_end": item.window_end.isoformat() if item.window_end else "",
            "state": item.state_label,
            "attachments": item.attachment_count,
            "url": base_url + item.url,
        }
        for item in feed_all(city=city)
    ]


# --- suggestion statistics (B22, P3(3)) ------------------------------------------------------------------

SUGGESTION_STAT_FIELDS = (
    ("city", "城市", "城市名称"),
    ("district_code", "区划代码", "受理时责任单元所在区的统计区划代码"),
    ("district", "所在区", "区名称"),
    ("unit_id", "责任单元编号", "本系统中责任单元的编号"),
    ("unit", "责任单元", "责任单元名称"),
    ("month", "受理月份", "YYYY-MM"),
    ("received", "受理件数", "当月受理的意见建议件数（不含因内容不当被隐藏的，也不含尚待审核公开的）"),
    ("answered", "已答复件数", "已由责任规划师公开答复的件数"),
    ("answered_on_time", "按期答复件数", "在答复期限（按工作日计算）内首次答复的件数"),
    ("overdue", "逾期未答复件数", "截至今天已过答复期限仍未答复、未办结的件数"),
    ("forwarded", "转交部门件数", "转交相关部门办理的件数"),
    ("closed", "已办结件数", "已办结的件数"),
)


def suggestion_stat_rows(*, city=None, district=None, year: int | None = None, **_ignored) -> list[dict]:
    from rpms.suggestions.models import Suggestion, SuggestionStatus, released_q

    today = clock.today()
    queryset = Suggestion.objects.filter(released_q(), hidden_at__isnull=True, city__is_active=True)
    if city is not None:
        queryset = queryset.filter(city=city)
    if district is not None:
        queryset = queryset.filter(district=district)
    if year:
        queryset = queryset.filter(received_on__year=year)
    grouped = (
        queryset.annotate(month=TruncMonth("received_on"), replied_on=TruncDate("replied_at"))
        .values("city__name", "city__sort_order", "district__code", "district__name", "district__sort_order",
                "unit_id", "unit__name", "month")
        .annotate(
            received=Count("id"),
            answered=Count("id", filter=Q(replied_at__isnull=False)),
            answered_on_time=Count("id", filter=Q(replied_on__lte=F("due_on"))),
            overdue=Count("id", filter=Q(replied_at__isnull=True, due_on__lt=today) & ~Q(status=SuggestionStatus.CLOSED)),
            forwarded=Count("id", filter=Q(forwarded_at__isnull=False)),
            closed=Count("id", filter=Q(status=SuggestionStatus.CLOSED)),
        )
        .order_by("city__sort_order", "district__sort_order", "district__code", "unit__name", "unit_id", "month")
    )
    return [
        {
            "city": row["city__name"],
            "district_code": row["district__code"],
            "district": row["district__name"],
            "unit_id": row["unit_id"],
            "unit": row["unit__name"],
            "month": row["month"].strftime("%Y-%m") if row["month"] else "",
            "received": row["received"],
            "answered": row["answered"],
            "answered_on_time": row["answered_on_time"],
            "overdue": row["overdue"],
            "forwarded": row["forwarded"],
            "closed": row["closed"],
        }
        for row in grouped
    ]


# --- honours (B24), from rpms.assessments when it offers them ---------------------------------------------

HONOUR_FIELDS = (
    ("city", "城市", "城市名称"),
    ("year", "年度", "表彰年度"),
    ("title", "荣誉称号", "如“优秀责任规划师”"),
    ("planner", "责任规划师（团队）", "获表彰的个人或团队名称"),
    ("planner_kind", "类型", "个人或团队"),
    ("employer", "工作单位", "获表彰者的工作单位"),
    ("district", "推选区", "推选的区"),
    ("unit", "服务责任单元", "获表彰者考核所在的责任单元"),
    ("published_on", "公布日期", "表彰名单公布日期（YYYY-MM-DD）"),
    ("verification_code", "证书核验码", "荣誉证书的核验码，可在本系统“文书核验”页面核验；未颁发为空"),
)


def _honour_source():
    """rpms.assessments' published honours (B24)."""
    from rpms.assessments.selectors import public_honours

    return public_honours


def honour_rows(*, city=None, year=None, **_ignored) -> list[dict]:
    source = _honour_source()
    if source is None:
        return []
    return [
        {
            "city": h.city.name,
            "year": h.year,
            "title": h.title,
            "planner": h.planner.name,
            "planner_kind": h.planner.get_kind_display(),
            "employer": h.planner.employer,
            "district": h.district.name,
            "unit": h.assessment.unit.name,
            "published_on": timezone.localtime(h.published_at).date().isoformat() if h.published_at else "",
            "verification_code": h.certificate.formatted_code if h.certificate_id else "",
        }
        for h in source(city=city, year=year)
    ]


# --- appointments (B19(7)), from rpms.appointments ---------------------------------------------------------


def appointment_rows(*, city=None, district=None, base_url: str = "", **_ignored) -> list[dict]:
    from rpms.appointments.selectors import open_data_rows

    return open_data_rows(city=city, district=district, base_url=base_url)


def _appointments_source(filters: dict) -> str:
    """The appointments' source line cites the city's own disclosure article when one city is asked for."""
    city = filters.get("city")
    if city is not None:
        from rpms.cities.selectors import policy_article

        basis = f"{city.name}，依据 {policy_article(city, 'disclosure')}"
    else:
        basis = "各城市依据本市关于聘用信息公开的规定"
    return f"{SOURCE}（已备案并公开的聘任信息，{basis}）"


# --- the catalogue ---------------------------------------------------------------------------------------


def datasets() -> list[Dataset]:
    from rpms.appointments.selectors import OPEN_DATA_FIELDS

    return [
        Dataset("appointments", "责任规划师聘任信息", "已备案并公开的在任及待到任聘任：责任单元、派驻角色、责任规划师（团队）、核心成员、工作单位、聘期（B19(7)）。",
                tuple(OPEN_DATA_FIELDS), appointment_rows, filters=("city", "district"), source="rpms.appointments",
                source_note=_appointments_source, csv_name="责任规划师聘任"),
        Dataset("units", "责任单元及覆盖情况", "现有责任单元、包含的街道乡镇，以及是否有在任责任规划师（B4）。", UNIT_FIELDS, unit_rows,
                filters=("city", "district")),
        Dataset("coverage", "各区责任规划师覆盖率", "各区责任单元数、已覆盖数、空缺数和覆盖率（B4）。", COVERAGE_FIELDS, coverage_rows),
        Dataset("notices", "公示公告", "公示公告、征集公告和入库公示的目录（B22）；不含公示人选的个人信息。", NOTICE_FIELDS, notice_rows),
        Dataset("honours", "表彰名单", "已公布的优秀责任规划师名单（B24）。", HONOUR_FIELDS,
                honour_rows if _honour_source() is not None else None, filters=("city", "year")),
        Dataset("suggestion-stats", "意见建议办理统计", "各责任单元每月受理、答复、按期答复、逾期、转交和办结的意见建议件数；只有数字，不含意见内容和任何个人信息。",
                SUGGESTION_STAT_FIELDS, suggestion_stat_rows, filters=("city", "district", "year")),
    ]


def dataset_get(slug: str) -> Dataset:
    dataset = next((d for d in datasets() if d.slug == slug), None)
    if dataset is None:
        raise NotFound(f"数据集“{slug}”不存在。", code="dataset_not_found")
    if not dataset.available:
        raise NotFound(f"数据集“{dataset.title}”尚未提供。", code="dataset_unavailable")
    return dataset


def dataset_filters(dataset: Dataset, params) -> dict:
    """city / district (codes) and year from query parameters; unknown codes → 404, bad year → 400."""
    from rpms.appointments.selectors import public_filters

    city, district = public_filters(params)
    year = None
    raw_year = str(params.get("year") or "").strip()
    if raw_year:
        if not (is_digits(raw_year) and 2000 <= int(raw_year) <= 2100):
            raise DomainError("年份应为四位数字，如 2026。", code="invalid_year")
        year = int(raw_year)
    return {"city": city, "district": district if "district" in dataset.filters else None,
            "year": year if "year" in dataset.filters else None}


def dataset_payload(dataset: Dataset, *, filters: dict, base_url: str) -> dict:
    return {
        "dataset": dataset.slug,
        "title": dataset.title,
        "description": dataset.description,
        "fields": dataset.field_dicts(),
        "rows": public_rows(dataset, filters=filters, base_url=base_url),
        "generated_at": clock.localtime().isoformat(timespec="seconds"),
        "source": dataset.source_note(filters) if dataset.source_note else SOURCE,
    }


def public_rows(dataset: Dataset, *, filters: dict, base_url: str) -> list[dict]:
    """The dataset's rows as published: every text value masked (identity numbers, phone numbers and
    e-mail addresses typed in names, titles or any other field)."""
    return mask_public_data(dataset.rows(base_url=base_url, **filters))


def _csv_safe(value):
    """No formula injection when the file is opened in a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


CSV_HEADERS = {"content_type": "text/csv; charset=utf-8"}
# Above this many rows a freshly generated CSV file is streamed to the client while it is written (and kept
# in the shared cache once complete); smaller files are sent whole.
STREAM_ROWS = 1000
_STREAM_CHUNK_ROWS = 500


def _csv_disposition(dataset: Dataset) -> str:
    from urllib.parse import quote

    return (f"attachment; filename=\"{dataset.slug}.csv\"; "
            f"filename*=UTF-8''{quote((dataset.csv_name or dataset.title) + '.csv')}")


def _csv_chunks(dataset: Dataset, rows: list[dict]):
    """The CSV file as UTF-8 chunks: UTF-8 with BOM (spreadsheet programs then read the Chinese header
    correctly), the header, then the rows a few hundred at a time."""
    fields = dataset.field_dicts()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([f["label"] for f in fields])
    for n, row in enumerate(rows, start=1):
        writer.writerow([_csv_safe(row.get(f["name"])) for f in fields])
        if n % _STREAM_CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _scopes(filters: dict) -> list[str]:
    """The public scopes a dataset depends on: its city's, or every public city's."""
    from rpms.cities.models import City
    from rpms.core import pubcache

    from .invalidation import CITIES_SCOPE

    city = filters.get("city")
    if city is not None:
        return [pubcache.public_scope(city.pk)]
    ids = pubcache.get_or_build(CITIES_SCOPE, "publicinfo:public_city_ids",
                                lambda: list(City.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)))
    return [pubcache.public_scope(pk) for pk in ids] + [CITIES_SCOPE]


def _cache_key(dataset: Dataset, fmt: str, filters: dict, base_url: str) -> str:
    city, district, year = filters.get("city"), filters.get("district"), filters.get("year")
    return (f"opendata:{dataset.slug}.{fmt}:{city.code if city else ''}:{district.code if district else ''}:"
            f"{year or ''}:{base_url}")


def _cached(dataset: Dataset, fmt: str, filters: dict, base_url: str):
    """(scopes, key, the cached file or None)."""
    from django.core.cache import cache

    from rpms.core import pubcache

    from .pagecache import _full_key

    scopes = _scopes(filters)
    key = _cache_key(dataset, fmt, filters, base_url)
    try:
        value = cache.get(pubcache.key_for(scopes[0], _full_key(scopes, key)))
    except Exception:  # noqa: BLE001 — no cache: generate
        value = None
    return scopes, key, value


def _keep(scopes: list[str], key: str, value) -> None:
    from .pagecache import store

    store(scopes, key, value)


def dataset_csv_response(dataset: Dataset, *, filters: dict, base_url: str):
    """The dataset as a CSV file: from the shared cache while nothing it shows has changed (rpms.core.pubcache,
    the public scope of its city: rpms.publicinfo.invalidation), otherwise generated — streamed when large —
    and kept."""
    from django.http import StreamingHttpResponse

    scopes, key, content = _cached(dataset, "csv", filters, base_url)
    if content is None:
        rows = public_rows(dataset, filters=filters, base_url=base_url)
        if len(rows) > STREAM_ROWS:
            def stream():
                parts = []
                for chunk in _csv_chunks(dataset, rows):
                    parts.append(chunk)
                    yield chunk
                _keep(scopes, key, b"".join(parts))

            response = StreamingHttpResponse(stream(), **CSV_HEADERS)
            response["Content-Disposition"] = _csv_disposition(dataset)
            return response
        content = b"".join(_csv_chunks(dataset, rows))
        _keep(scopes, key, content)
    response = HttpResponse(content, **CSV_HEADERS)
    response["Content-Disposition"] = _csv_disposition(dataset)
    return response


def dataset_json_response(dataset: Dataset, *, filters: dict, base_url: str, render) -> HttpResponse:
    """The dataset as JSON (`dataset_payload`, rendered by `render(payload)` → HttpResponse), from the shared
    cache while nothing it shows has changed, otherwise generated and kept."""
    scopes, key, value = _cached(dataset, "json", filters, base_url)
    if value is None:
        response = render(dataset_payload(dataset, filters=filters, base_url=base_url))
        if response.status_code == 200:
            _keep(scopes, key, (response.content, response["Content-Type"]))
        return response
    content, content_type = value
    return HttpResponse(content, content_type=content_type)
