"""Annual statistics (年度统计分析, Beijing B19(6); each city cites `policy_article(city, "statistics")`).

`city_statistics(city=, year=, districts=)` computes a city's year in numbers, per district and in total,
as one JSON-safe dict with Chinese labels: the pool, appointments, coverage, grades, removals, duty hours,
written opinions, residents' suggestions, allowances and service fees. Every figure is computed by the
database with grouped aggregates (one or two queries per topic): the number of queries does not grow with
the number of rows (tests assert it at two data sizes; bench/annual_statistics.py times a 10× Beijing year).

Definitions (also returned under "definitions", shown on the page and in the workbook):

- The year runs 1 January – 31 December (local time, Asia/Shanghai). "As of" (`as_of`) is 31 December for a
  past year and today for the current year; future years are refused. Flows (admitted, new, left, …) run
  from 1 January to the as-of day, stocks are taken on the as-of day.
- Every figure is defined once and the page, the API, the workbook and the charts read the same dict; the
  figures that must agree do so by construction (tests/test_consistency.py recounts them from raw rows):
  pool: 年初在库 + 年内入库 − 年内调出 = 截至日在库 = 个人 + 团队, and for the current year 截至日在库 =
  当前在库 (one function of the dossier, `_pool_state`, at different moments); appointments: 年初在任 + 新聘
  = 年内在任 = 截至日在任 + 期满离任 + 解除聘用 + 退出派驻 + 调出终止 (`serving_on_q`, `served_in_period_q`);
  coverage: 已覆盖 + 未覆盖 = 责任单元, 已覆盖 = units of the appointments serving on the as-of day;
  suggestions: 受理 = 隐藏 + 有效 = …, with the suggestions app's own `pending_q` / `overdue_q`; every 合计
  is the sum of the district rows (except the distinct head count of serving planners).
- An appointment serves on day d when start ≤ d ≤ its last day (leave / termination date, else the term's
  end); for today also by its stored status, as everywhere else in the system (an early end settled today no
  longer counts), a past day by its dates alone (a past year's figures do not depend on today's statuses).
- Pool figures are the city's (a planner belongs to the city, not to a district), read from the dossier's
  admission and removal events; "serving planners" gives the district's view.
- Suggestion response time counts from the day of receipt to the day of the first public reply (local
  date): calendar days = reply date − receipt date (a same-day reply is 0); working days = working days
  from the receipt date to the reply date, both included, by rpms.workdays (the house's deadline rule: the
  receipt day is day 1 if it is a working day), so a reply is within an N-working-day limit when it is ≤ N.

Scoping: `statistics_for_user` lets city administrators of the city and auditors see everything; a district
officer sees only the districts he serves, and the city-level figures (pool, removals) and city totals are
withheld from him: his "合计" is the sum of his own districts. Everyone else is refused."""
from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import defaultdict
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, F, Min, OuterRef, Q, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide, visible_district_ids
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.errors import DomainError, Forbidden, NotFound

FIRST_YEAR = 2000
ALLOWED_ROLES = (Role.CITY_ADMIN, Role.AUDITOR, Role.DISTRICT_OFFICER)

DEFINITIONS = {
    "values": "比率（覆盖率、采纳率、按期答复率）在接口中为 0 至 1 的小数，页面和工作簿以百分数显示；时长单位为小时，金额单位为元；"
              "没有可计算的分母时为空（null，页面显示“—”）。",
    "period": "统计年度为当年 1 月 1 日至 12 月 31 日（北京时间）；“截至日”为往年的 12 月 31 日、本年度的今日。",
    "pool": "资源库为全市口径（责任规划师属于城市而非某一区），按个人档案中的入库记录（公开征集入库、定向委托入库、"
            "名册导入，以原入库日期为准）和调出记录计算：某一时刻在库 = 此前最后一条入库或调出记录为入库。"
            "年初在库 = 1 月 1 日零时在库；年内入库、年内调出 = 1 月 1 日至截至日的入库、调出记录数；"
            "截至日在库 = 截至日终了时在库 = 年初在库 + 年内入库 − 年内调出；当前在库为同一口径下今日的人数（本年度即截至日在库）。"
            "“入库状态与档案不一致”为资源库状态与档案记录不符的人数（如标为在库但档案中没有入库记录），请核对更正。",
    "appointments": "聘任在某日“在任”指聘期开始日 ≤ 该日 ≤ 最后服务日（提前结束日，否则为本聘期结束日）；"
                    "今日的在任还须未被提前终止（与系统其他页面一致），以往日期只看日期。"
                    "年内在任 = 1 月 1 日至截至日至少在任一日；年初在任 = 其中聘期始于 1 月 1 日以前的；新聘 = 其中聘期始于年内的；"
                    "截至日在任 = 截至日在任；年内在任但截至日已不在任的，按结束方式计为期满离任、解除聘用、退出派驻或调出终止"
                    "（调出资源库导致派驻终止），故 年初在任 + 新聘 = 年内在任 = 截至日在任 + 期满离任 + 解除聘用 + 退出派驻 + 调出终止；"
                    "续聘 = 续聘聘期开始日在 1 月 1 日至截至日之间；在任规划师 = 截至日在任的责任规划师（团队）人数，去重。",
    "coverage": "责任单元 = 截至日已建立且未撤销的责任单元；已覆盖 = 截至日有在任聘任（口径同“截至日在任”）的责任单元；"
                "未覆盖 = 责任单元 − 已覆盖；覆盖率 = 已覆盖 ÷ 责任单元。",
    "grades": "按考核年度（考核周期结束的年份）统计已评定等次的年度考核，区为被考核聘任所在的区。",
    "removals": "按档案中调出资源库记录的调出情形统计 1 月 1 日至截至日调出的人次（全市口径），合计即资源库的“年内调出”。",
    "limit_exceptions": "原则性规定的例外（全市口径）：按所涉限制统计，批准 = 审批日期在年内的已批准例外（含市级管理员办理时一并批准的），"
                        "不予批准 = 审批日期在年内的未批准申请，待审批 = 截至今日尚未审批的申请。",
    "duty_hours": "履职记录按记录日期统计；“已确认”为聘任主体已确认的记录，“全部”含待确认和有疑问的记录。",
    "opinions": "年内出具的书面意见（含更正版本；更正版本另列）；采纳情况取设计单位的反馈，"
                "采纳率 = （采纳 + 部分采纳）÷ 已反馈。",
    "suggestions": "按受理日期统计 1 月 1 日至截至日受理的意见建议；被隐藏的不计入有效件：受理 = 隐藏 + 有效，"
                   "有效 = 已答复 + 逾期未答复 + 期限内待答复（办结须先公开答复），已答复 = 按期答复 + 逾期答复。"
                   "按期答复 = 首次公开答复日期不晚于答复期限；逾期未答复、期限内待答复与意见建议列表的“逾期”“待答复”口径相同："
                   "截至今日未公开答复、未办结，已过 / 未过答复期限；按期答复率 = 按期答复 ÷ 已答复。"
                   "答复用时：自然日 = 答复日期 − 受理日期（当日答复为 0）；工作日 = 受理日至答复日（含两端）的工作日数，"
                   "按工作日历计算（受理日为工作日时计为第 1 个工作日）。平均数保留一位小数，中位数为全部已答复件用时的中位数。",
    "finance": "交通通讯补贴：应付 = 应付日期在年内；已付 = 支付日期在年内；逾期未付 = 年内应付、截至今日已过应付日期仍未支付。"
               "服务费用：应付 = 约定支付日期在年内的付款期次；按期付清 = 其中在最迟支付日期（含宽限期）前付清的期次；"
               "逾期未付清 = 其中截至今日已过最迟支付日期仍未付清的期次；实付 = 支付日期在年内的支付记录。金额单位为元。",
}


# Chinese labels of every figure (the API returns them under "labels"; the workbook uses them as headers).
APPOINTMENT_COLUMNS = [
    ("carried_in", "年初在任"), ("new", "新聘"), ("active_in_year", "年内在任"), ("renewed", "续聘"),
    ("ended", "期满离任"), ("terminated", "解除聘用"), ("withdrawn", "退出派驻"), ("removed", "调出终止"),
    ("active_at_as_of", "截至日在任"), ("serving_planners", "在任规划师（人/团队）"),
]
COVERAGE_COLUMNS = [("units", "责任单元"), ("covered", "已覆盖"), ("uncovered", "未覆盖"), ("ratio", "覆盖率")]
OPINION_COLUMNS = [
    ("issued", "出具（含更正）"), ("corrections", "其中更正版本"), ("responded", "设计单位已反馈"), ("adopted", "采纳"),
    ("partly_adopted", "部分采纳"), ("not_adopted", "未采纳"), ("adoption_rate", "采纳率"), ("department_answers", "部门答复"),
]
SUGGESTION_COLUMNS = [
    ("received", "受理"), ("hidden", "隐藏"), ("valid", "有效"), ("answered", "已答复"), ("on_time", "按期答复"),
    ("late", "逾期答复"), ("overdue_unanswered", "逾期未答复"), ("pending", "期限内待答复"), ("forwarded", "转交部门"),
    ("closed", "已办结"), ("on_time_rate", "按期答复率"), ("mean_days", "平均答复用时（自然日）"),
    ("median_days", "答复用时中位数（自然日）"), ("mean_working_days", "平均答复用时（工作日）"),
    ("median_working_days", "答复用时中位数（工作日）"),
]
FINANCE_COLUMNS = [
    ("allowance_due_count", "补贴应付（笔）"), ("allowance_due_yuan", "补贴应付（元）"),
    ("allowance_paid_count", "补贴已付（笔）"), ("allowance_paid_yuan", "补贴已付（元）"),
    ("allowance_overdue_count", "补贴逾期未付（笔）"), ("allowance_overdue_yuan", "补贴逾期未付（元）"),
    ("fee_due_count", "服务费应付期次"), ("fee_due_yuan", "服务费应付（元）"),
    ("fee_settled_on_time_count", "按期付清期次"), ("fee_overdue_count", "逾期未付清期次"),
    ("fee_paid_count", "服务费支付笔数"), ("fee_paid_yuan", "服务费实付（元）"),
]
POOL_LABELS = {"in_pool_start": "年初在库", "admitted": "年内入库", "removed": "年内调出",
               "in_pool": "在库责任规划师（截至日）", "individuals": "其中：个人", "teams": "其中：团队",
               "in_pool_now": "当前在库", "status_mismatch": "入库状态与档案不一致"}
DUTY_LABELS = {"hours": "履职时长（全部，小时）", "confirmed_hours": "履职时长（已确认，小时）", "records": "记录数（全部）",
               "confirmed_records": "记录数（已确认）"}
LABELS = {
    "pool": POOL_LABELS, "appointments": dict(APPOINTMENT_COLUMNS), "coverage": dict(COVERAGE_COLUMNS),
    "duty_hours": DUTY_LABELS, "opinions": dict(OPINION_COLUMNS), "suggestions": dict(SUGGESTION_COLUMNS),
    "finance": dict(FINANCE_COLUMNS),
}


# --- helpers ----------------------------------------------------------------------------------------------------


def _today() -> dt.date:
    return clock.today()


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def check_year(year, *, today: dt.date | None = None) -> int:
    """The year as an int between FIRST_YEAR and this year, or a DomainError in Chinese."""
    today = today or _today()
    try:
        value = int(str(year).strip())
    except (TypeError, ValueError):
        raise DomainError("统计年度格式不正确，应为四位数字年份，如 2025。", code="invalid_year") from None
    if value < FIRST_YEAR or value > today.year:
        raise DomainError(f"统计年度应在 {FIRST_YEAR} 年至 {today.year} 年之间。", code="year_out_of_range")
    return value


def _hours(value) -> float:
    return float(round(Decimal(value or 0), 1))


def _ratio(part, whole) -> float | None:
    return round(part / whole, 4) if whole else None


def _median(histogram: dict[int, int]) -> float | None:
    """The median of a distribution given as {value: count}."""
    total = sum(histogram.values())
    if not total:
        return None
    ordered = sorted(histogram.items())
    lower_rank, upper_rank = (total - 1) // 2, total // 2
    lower = upper = None
    seen = 0
    for value, count in ordered:
        if lower is None and seen + count > lower_rank:
            lower = value
        if seen + count > upper_rank:
            upper = value
            break
        seen += count
    return (lower + upper) / 2


def _mean(histogram: dict[int, int]) -> float | None:
    total = sum(histogram.values())
    if not total:
        return None
    return round(sum(value * count for value, count in histogram.items()) / total, 1)


def _optional_model(app_label: str, model_name: str, *fields: str):
    """A model of an app being built alongside (assessments, finance) if it is installed and has the fields
    this module reads; None otherwise (the topic then reports `available: false`)."""
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return None
    try:
        for name in fields:
            model._meta.get_field(name.split("__")[0])
    except FieldDoesNotExist:
        return None
    return model


class _Period:
    def __init__(self, year: int, today: dt.date):
        self.year = year
        self.start = dt.date(year, 1, 1)
        self.end = dt.date(year, 12, 31)
        self.as_of = min(self.end, today)
        self.today = today
        self.start_dt = _local_midnight(self.start)
        self.end_dt = _local_midnight(self.end + dt.timedelta(days=1))  # exclusive
        self.as_of_end_dt = _local_midnight(self.as_of + dt.timedelta(days=1))  # exclusive
        self.today_end_dt = _local_midnight(today + dt.timedelta(days=1))  # exclusive: "now" for the pool

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(), "end": self.end.isoformat(), "as_of": self.as_of.isoformat(),
            "complete": self.as_of == self.end and self.today > self.end,
            "as_of_label": "年末" if self.as_of == self.end else "截至今日",
        }


def _district_rows(districts, per_district: dict, make_row) -> list[dict]:
    return [{"district": d.code, "district_name": d.name, **make_row(per_district.get(d.pk, {}))} for d in districts]


def _sum_rows(rows: list[dict], keys) -> dict:
    return {key: (round(sum(row[key] for row in rows), 1) if any(isinstance(row[key], float) for row in rows)
                  else sum(row[key] for row in rows)) for key in keys}


# --- topics ---------------------------------------------------------------------------------------------------


# The pool (资源库) is read from the dossier (P5(2) 个人档案), which keeps every admission and removal with its
# time: a planner is in the pool at a moment when the last of his admission / removal events before it is an
# admission. Stock and flows come from these same rows, so that for any period
#     in pool at its start + admitted in it − removed in it = in pool at its end,
# the stock today equals "as of today", and a later re-admission never rewrites a past year.
POOL_ENTRIES = {"admitted": "公开征集入库", "commissioned": "定向委托入库", "imported": "名册导入"}
POOL_EXIT = "removed"


def _pool_state(at: dt.datetime):
    """Subquery: the kind of the planner's last admission / removal event before `at` (None: never admitted)."""
    from rpms.registry.models import DossierEvent

    return Subquery(
        DossierEvent.objects.filter(planner=OuterRef("pk"), kind__in=[*POOL_ENTRIES, POOL_EXIT], occurred_at__lt=at)
        .order_by("-occurred_at", "-id").values("kind")[:1]
    )


def pool_in_q(name: str) -> Q:
    """In the pool by the annotation `name` (a _pool_state)."""
    return Q(**{f"{name}__in": list(POOL_ENTRIES)})


def _pool_and_removals(city, period: _Period) -> tuple[dict, dict]:
    """The pool topic and the removals topic, from the dossier events (see POOL_ENTRIES)."""
    from rpms.registry.models import DossierEvent, Planner, PlannerKind, PoolStatus

    planners = Planner.objects.filter(city=city).annotate(
        at_start=_pool_state(period.start_dt), at_as_of=_pool_state(period.as_of_end_dt), now=_pool_state(period.today_end_dt),
    )
    # One row per combination of (state at the start, at the as-of day, now, kind, registry status) — a handful —
    # so that each planner's three states are looked up once (PostgreSQL evaluates a subquery again wherever an
    # aggregate's FILTER mentions it: seven times per planner with COUNT … FILTER), then counted here.
    entries = set(POOL_ENTRIES)
    stock = dict.fromkeys(("in_pool_start", "in_pool", "individuals", "teams", "in_pool_now", "status_mismatch"), 0)
    for at_start, at_as_of, now, kind, status, n in (
        planners.order_by().values_list("at_start", "at_as_of", "now", "kind", "pool_status").annotate(n=Count("id"))
    ):
        in_now = now in entries
        stock["in_pool_start"] += n if at_start in entries else 0
        if at_as_of in entries:
            stock["in_pool"] += n
            stock["individuals"] += n if kind == PlannerKind.INDIVIDUAL else 0
            stock["teams"] += n if kind == PlannerKind.TEAM else 0
        stock["in_pool_now"] += n if in_now else 0
        # The registry's status and the dossier disagree (e.g. a record marked 在库 with no admission in its
        # file): shown so that it is corrected, never counted twice.
        stock["status_mismatch"] += n if (status == PoolStatus.ACTIVE) != in_now else 0
    moves = defaultdict(int)
    for kind, ground, n in (
        DossierEvent.objects.filter(planner__city=city, kind__in=[*POOL_ENTRIES, POOL_EXIT],
                                    occurred_at__gte=period.start_dt, occurred_at__lt=period.as_of_end_dt)
        .annotate(ground=KeyTextTransform("ground", "data")).order_by().values_list("kind", "ground").annotate(n=Count("id"))
    ):
        moves[(kind, ground if kind == POOL_EXIT else None)] += n
    by_route = [{"code": code, "label": label, "count": moves.get((code, None), 0)} for code, label in POOL_ENTRIES.items()]
    removed = {ground: n for (kind, ground), n in moves.items() if kind == POOL_EXIT}
    grounds = [{"code": g["code"], "label": g["label"], "article": g.get("article", ""), "count": removed.pop(g["code"], 0)}
               for g in city.policy.removal_grounds or []]
    for code, n in sorted(removed.items(), key=lambda item: str(item[0])):
        grounds.append({"code": code or "", "label": code or "（未注明情形）", "article": "", "count": n})
    removals = {"grounds": grounds, "total": sum(g["count"] for g in grounds)}
    pool = {
        "in_pool_start": stock["in_pool_start"],
        "admitted": sum(item["count"] for item in by_route), "admitted_by_route": by_route,
        "removed": removals["total"],
        "in_pool": stock["in_pool"], "individuals": stock["individuals"], "teams": stock["teams"],
        "in_pool_now": stock["in_pool_now"], "status_mismatch": stock["status_mismatch"],
    }
    return pool, removals


def _limit_exceptions(city, period: _Period) -> dict:
    """Exceptions to in-principle limits (B18, B19(2), B19(7)) per limit: granted and refused in the year,
    pending now. One grouped query."""
    from rpms.cities.limits import LIMITS, limit_article, limit_strictness
    from rpms.registry.models import ExceptionStatus, LimitException

    decided_in_year = Q(decided_at__gte=period.start_dt, decided_at__lt=period.end_dt)
    counts = {
        row["limit"]: row for row in LimitException.objects.filter(city=city).order_by().values("limit").annotate(
            granted=Count("id", filter=Q(status=ExceptionStatus.APPROVED) & decided_in_year),
            refused=Count("id", filter=Q(status=ExceptionStatus.REFUSED) & decided_in_year),
            pending=Count("id", filter=Q(status=ExceptionStatus.PENDING)),
        )
    }
    rows = []
    for code, (label, _) in LIMITS.items():
        found = counts.get(code, {})
        rows.append({"code": code, "label": label, "article": limit_article(city, code),
                     "strictness": limit_strictness(city.policy, code),
                     "granted": found.get("granted", 0), "refused": found.get("refused", 0),
                     "pending": found.get("pending", 0)})
    return {"rows": rows, "total": {key: sum(r[key] for r in rows) for key in ("granted", "refused", "pending")}}


APPOINTMENT_KEYS = ("carried_in", "new", "active_in_year", "renewed", "ended", "terminated", "withdrawn", "removed",
                    "active_at_as_of", "serving_planners")
# How an appointment that stopped serving ended: by its end_kind, or by a stored status written before end_kind
# existed; an early end without either is a withdrawal (the only early end there was); none is the term's expiry.
_TERMINATED = Q(end_kind="termination") | Q(status="terminated")
_REMOVED = ~_TERMINATED & (Q(end_kind="removal") | Q(status="removed"))
_WITHDRAWN = ~_TERMINATED & ~(Q(end_kind="removal") | Q(status="removed")) & Q(ended_on__isnull=False)
_EXPIRED = ~_TERMINATED & ~(Q(end_kind="removal") | Q(status="removed")) & Q(ended_on__isnull=True)


def _appointments_base(city, district_ids):
    from rpms.appointments.models import Appointment

    base = Appointment.objects.filter(city=city).annotate(last=Coalesce("ended_on", "end"))
    if district_ids is not None:
        base = base.filter(unit__district_id__in=district_ids)
    return base


def serving_on_q(day: dt.date, period: _Period) -> Q:
    """THE definition of "serving on `day`" (on an Appointment queryset annotated with `last`, its last day):
    start ≤ day ≤ last day; for today (and later) also what the system counts now — an early end settled today
    has stopped counting (appointments.services.appointment_end_record, AppointmentQuerySet.active). A past
    day is read from the dates alone: today's stored status says nothing about last year. The one definition is
    rpms.appointments.selectors.serving_on_q."""
    from rpms.appointments.selectors import serving_on_q as appointments_serving_on_q

    return appointments_serving_on_q(day, today=period.today)


def served_in_period_q(period: _Period) -> Q:
    """Served at least one day from 1 January to the as-of day (an appointment ended before it began never served)."""
    return Q(start__lte=period.as_of, last__gte=period.start) & Q(last__gte=F("start"))


def _appointments(city, period: _Period, district_ids) -> dict:
    from rpms.appointments.models import AppointmentTerm, TermKind

    base = _appointments_base(city, district_ids)
    served = served_in_period_q(period)
    serving = serving_on_q(period.as_of, period)
    # Served in the period and no longer serving on the as-of day: left, by how it ended. So that
    # 年初在任 + 新聘 = 年内在任 = 截至日在任 + 期满离任 + 解除聘用 + 退出派驻 + 调出终止.
    left = served & ~serving
    aggregates = {
        "carried_in": Count("id", filter=served & Q(start__lt=period.start)),
        "new": Count("id", filter=served & Q(start__gte=period.start)),
        "active_in_year": Count("id", filter=served),
        "ended": Count("id", filter=left & _EXPIRED),
        "terminated": Count("id", filter=left & _TERMINATED),
        "withdrawn": Count("id", filter=left & _WITHDRAWN),
        "removed": Count("id", filter=left & _REMOVED),
        "active_at_as_of": Count("id", filter=serving),
        "serving_planners": Count("planner", filter=serving, distinct=True),
    }
    grouped = {row.pop("unit__district_id"): row for row in base.order_by().values("unit__district_id").annotate(**aggregates)}
    # A planner may serve in several districts: the total's head count is its own distinct count.
    total_planners = base.aggregate(n=aggregates["serving_planners"])["n"]
    renewals = AppointmentTerm.objects.filter(
        appointment__city=city, kind=TermKind.RENEWAL, start__gte=period.start, start__lte=period.as_of
    )
    if district_ids is not None:
        renewals = renewals.filter(appointment__unit__district_id__in=district_ids)
    for district_id, n in renewals.order_by().values_list("appointment__unit__district_id").annotate(n=Count("id")):
        grouped.setdefault(district_id, {})["renewed"] = n
    return {"grouped": grouped, "total_planners": total_planners}


def _coverage(city, period: _Period, district_ids) -> dict:
    """Units that exist on the as-of day, and those of them with an appointment serving that day (serving_on_q:
    the same appointments as 截至日在任): rpms.appointments' coverage."""
    from rpms.appointments.selectors import coverage_by_district

    return coverage_by_district(city=city, on=period.as_of, today=period.today, district_ids=district_ids)


def _grades(city, period: _Period, district_ids) -> dict | None:
    """Graded assessments of the year per district and grade (rpms.assessments); None if it is not installed."""
    model = _optional_model("assessments", "Assessment", "city", "district", "year", "grade", "status")
    if model is None:
        return None
    found = model.objects.filter(city=city, year=period.year, status="graded").exclude(grade="")
    if district_ids is not None:
        found = found.filter(district_id__in=district_ids)
    grouped: dict = defaultdict(dict)
    for district_id, grade, n in found.order_by().values_list("district_id", "grade").annotate(n=Count("id")):
        grouped[district_id][grade] = n
    return grouped


def _duty_hours(city, period: _Period, district_ids) -> dict:
    from rpms.duties.models import DutyRecord, DutyStatus

    records = DutyRecord.objects.filter(city=city, date__gte=period.start, date__lte=period.end)
    if district_ids is not None:
        records = records.filter(unit__district_id__in=district_ids)
    grouped: dict = defaultdict(lambda: defaultdict(lambda: {"hours": Decimal(0), "records": 0,
                                                             "confirmed_hours": Decimal(0), "confirmed_records": 0}))
    # Grouped by status rather than summed with FILTER clauses: cheaper on a million rows (bench/statistics.py).
    rows = records.order_by().values_list("unit__district_id", "category", "status").annotate(h=Sum("hours"), n=Count("id"))
    for district_id, category, status, hours, n in rows:
        cell = grouped[district_id][category]
        cell["hours"] += hours or 0
        cell["records"] += n
        if status == DutyStatus.CONFIRMED:
            cell["confirmed_hours"] += hours or 0
            cell["confirmed_records"] += n
    return grouped


OPINION_KEYS = ("issued", "corrections", "responded", "adopted", "partly_adopted", "not_adopted", "department_answers")


def _opinions(city, period: _Period, district_ids) -> dict:
    from rpms.opinions.models import OpinionResponse, OpinionStatus, Responder, ResponseOutcome, WrittenOpinion

    issued = WrittenOpinion.objects.filter(
        city=city, status__in=[OpinionStatus.ISSUED, OpinionStatus.SUPERSEDED],
        issued_at__gte=period.start_dt, issued_at__lt=period.end_dt,
    )
    if district_ids is not None:
        issued = issued.filter(unit__district_id__in=district_ids)
    grouped: dict = defaultdict(dict)
    for row in issued.order_by().values("unit__district_id").annotate(
        issued=Count("id"), corrections=Count("id", filter=Q(version__gt=1))
    ):
        grouped[row["unit__district_id"]].update(issued=row["issued"], corrections=row["corrections"])
    responses = OpinionResponse.objects.filter(opinion__in=issued.values("id"))
    outcome_keys = {ResponseOutcome.ADOPTED: "adopted", ResponseOutcome.PARTLY_ADOPTED: "partly_adopted",
                    ResponseOutcome.NOT_ADOPTED: "not_adopted"}
    for district_id, responder, outcome, n in responses.order_by().values_list(
        "opinion__unit__district_id", "responder", "outcome"
    ).annotate(n=Count("id")):
        cell = grouped[district_id]
        if responder == Responder.DESIGN_UNIT:
            key = outcome_keys.get(outcome)
            if key:
                cell[key] = cell.get(key, 0) + n
                cell["responded"] = cell.get("responded", 0) + n
        else:
            cell["department_answers"] = cell.get("department_answers", 0) + n
    return grouped


SUGGESTION_KEYS = ("received", "hidden", "valid", "answered", "on_time", "late", "overdue_unanswered", "pending",
                   "forwarded", "closed")


def _suggestions(city, period: _Period, district_ids) -> dict:
    """Received in the year, by the suggestions' own definitions of "waiting" and "overdue"
    (rpms.suggestions.selectors.pending_q / overdue_q, the district's overdue list): so that
    受理 = 隐藏 + 有效, 有效 = 已答复 + 逾期未答复 + 期限内待答复 (a suggestion is closed only after its
    public reply) and 已答复 = 按期答复 + 逾期答复."""
    from rpms.suggestions.models import Suggestion, SuggestionStatus
    from rpms.suggestions.selectors import overdue_q, pending_q

    received = Suggestion.objects.filter(city=city, received_on__gte=period.start, received_on__lte=period.as_of)
    if district_ids is not None:
        received = received.filter(district_id__in=district_ids)
    visible = Q(hidden_at__isnull=True)
    answered = visible & Q(replied_at__isnull=False)
    counts = received.order_by().values("district_id").annotate(
        received=Count("id"),
        hidden=Count("id", filter=~visible),
        valid=Count("id", filter=visible),
        answered=Count("id", filter=answered),
        on_time=Count("id", filter=answered & Q(replied_at__date__lte=F("due_on"))),
        overdue_unanswered=Count("id", filter=overdue_q(period.today)),
        pending=Count("id", filter=pending_q() & Q(due_on__gte=period.today)),
        forwarded=Count("id", filter=visible & Q(forwarded_at__isnull=False)),
        closed=Count("id", filter=visible & Q(status=SuggestionStatus.CLOSED)),
    )
    grouped: dict = {}
    for row in counts:
        district_id = row.pop("district_id")
        row["late"] = row["answered"] - row["on_time"]
        grouped[district_id] = row
    days, working = _response_times(received.filter(answered), period)
    return {"grouped": grouped, "days": days, "working_days": working}


def _response_times(answered, period: _Period):
    """Histograms {district_id: {days: count}} of the calendar days and working days from receipt to reply.

    PostgreSQL: the database counts the days itself — width_bucket() over the sorted local midnights of the
    window's days and of its working days (a binary search per row, no time-zone conversion per row) — and
    groups by (district, days, working days): a few hundred rows. Elsewhere: one grouped query of (district,
    receipt date, reply date), each pair counted here. Both load the calendar once (rpms.workdays, two
    queries) for a window from 1 January of the year to a year after its end (at most ten years), and agree
    exactly (the tests run on both)."""
    from django.db import connection

    days: dict = defaultdict(lambda: defaultdict(int))
    working: dict = defaultdict(lambda: defaultdict(int))
    if connection.vendor == "postgresql":
        from django.contrib.postgres.fields import ArrayField
        from django.db.models import DateField, DateTimeField, Func, IntegerField, Value

        counter = _WorkingDayCounter(period.start, max(period.today, period.end) + dt.timedelta(days=366))
        all_days = [counter.first + dt.timedelta(days=n) for n in range((counter.last - counter.first).days + 1)]

        def bucket(column, values, kind):
            # width_bucket(x, sorted thresholds) = how many thresholds are ≤ x (a binary search per row).
            return Func(F(column), Value(values, output_field=ArrayField(kind())), function="width_bucket",
                        output_field=IntegerField())

        # Timestamps are compared with local midnights, so no row needs a time-zone conversion.
        reply_day = bucket("replied_at", [_local_midnight(d) for d in all_days], DateTimeField)
        receipt_day = bucket("received_on", all_days, DateField)
        working_upto_reply = bucket("replied_at", [_local_midnight(d) for d in counter.working], DateTimeField)
        working_before_receipt = bucket("received_on", [d + dt.timedelta(days=1) for d in counter.working], DateField)
        rows = (
            answered.filter(replied_at__lt=_local_midnight(counter.last + dt.timedelta(days=1)))
            .annotate(lag=reply_day - receipt_day, work=working_upto_reply - working_before_receipt)
            .order_by().values_list("district_id", "lag", "work").annotate(n=Count("id"))
        )
        for district_id, lag, work, n in rows:
            days[district_id][lag] += n
            working[district_id][work] += n
        return days, working
    pairs = list(
        answered.annotate(reply_on=TruncDate("replied_at")).order_by()
        .values_list("district_id", "received_on", "reply_on").annotate(n=Count("id"))
    )
    if pairs:
        counter = _WorkingDayCounter(period.start, max(reply for _, _, reply, _ in pairs))
        for district_id, received_on, reply_on, n in pairs:
            span = counter.count(received_on, reply_on)
            if span is not None:  # a reply more than ten years on is left out, as on PostgreSQL
                days[district_id][(reply_on - received_on).days] += n
                working[district_id][span] += n
    return days, working


class _WorkingDayCounter:
    """Working days between two dates from one load of the calendar (rpms.workdays, two queries)."""

    def __init__(self, first: dt.date, last: dt.date):
        from rpms.workdays.selectors import MAX_COUNT_SPAN_DAYS, day_statuses

        last = max(first, min(last, first + dt.timedelta(days=MAX_COUNT_SPAN_DAYS - 1)))
        self.first, self.last = first, last
        self.working = [s.date for s in day_statuses(first, last) if s.is_working]

    def count(self, start: dt.date, end: dt.date) -> int | None:
        """Working days from start to end, both included (None outside the loaded window)."""
        if start < self.first or end > self.last:
            return None
        if end < start:
            return 0
        return bisect_left(self.working, end + dt.timedelta(days=1)) - bisect_left(self.working, start)


def _finance(city, period: _Period, district_ids) -> dict | None:
    """Allowances (P6(3)) and service fees (B21) per district from rpms.finance; None if it is not installed."""
    allowance = _optional_model("finance", "Allowance", "city", "district", "amount_yuan", "due_on", "paid_on", "status")
    installment = _optional_model("finance", "FeeInstallment", "city", "district", "amount_yuan", "due_on", "pay_by",
                                  "status", "settled_on")
    payment = _optional_model("finance", "FeePayment", "city", "installment", "amount_yuan", "paid_on")
    if allowance is None or installment is None or payment is None:
        return None
    grouped: dict = defaultdict(dict)

    def scoped(queryset, field="district_id"):
        queryset = queryset.filter(city=city)
        return queryset if district_ids is None else queryset.filter(**{f"{field}__in": district_ids})

    due_in_year = Q(due_on__gte=period.start, due_on__lte=period.end)
    paid_in_year = Q(paid_on__gte=period.start, paid_on__lte=period.end)
    for row in scoped(allowance.objects.filter(due_in_year | paid_in_year)).order_by().values("district_id").annotate(
        allowance_due_count=Count("id", filter=due_in_year),
        allowance_due_yuan=Sum("amount_yuan", filter=due_in_year),
        allowance_paid_count=Count("id", filter=paid_in_year),
        allowance_paid_yuan=Sum("amount_yuan", filter=paid_in_year),
        allowance_overdue_count=Count("id", filter=due_in_year & Q(status="due", due_on__lt=period.today)),
        allowance_overdue_yuan=Sum("amount_yuan", filter=due_in_year & Q(status="due", due_on__lt=period.today)),
    ):
        grouped[row.pop("district_id")].update(row)
    for row in scoped(installment.objects.filter(due_in_year)).order_by().values("district_id").annotate(
        fee_due_count=Count("id"),
        fee_due_yuan=Sum("amount_yuan"),
        fee_settled_on_time_count=Count("id", filter=Q(status="paid", settled_on__lte=F("pay_by"))),
        fee_overdue_count=Count("id", filter=~Q(status="paid") & Q(pay_by__lt=period.today)),
    ):
        grouped[row.pop("district_id")].update(row)
    for row in scoped(payment.objects.filter(paid_in_year), "installment__district_id").order_by().values(
        "installment__district_id"
    ).annotate(fee_paid_count=Count("id"), fee_paid_yuan=Sum("amount_yuan")):
        grouped[row.pop("installment__district_id")].update(row)
    return grouped


FINANCE_KEYS = ("allowance_due_count", "allowance_due_yuan", "allowance_paid_count", "allowance_paid_yuan",
                "allowance_overdue_count", "allowance_overdue_yuan",
                "fee_due_count", "fee_due_yuan", "fee_settled_on_time_count", "fee_overdue_count",
                "fee_paid_count", "fee_paid_yuan")


# --- the whole -------------------------------------------------------------------------------------------------


def _money(value) -> int | float:
    if value is None:
        return 0
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(round(value, 2))


def city_statistics(*, city, year, districts=None, city_level: bool = True, today: dt.date | None = None) -> dict:
    """The city's year in numbers (B19(6)), JSON-safe, labels in Chinese.

    `districts`: None for the whole city, or the District rows to report (the totals are then theirs).
    `city_level`: whether to compute the city-level topics (pool, removals), withheld from district officers.
    `today`: the date the statistics are computed on (tests); the current local date by default.

    A finished year is computed once and kept, the current year cached for a few minutes; any write to an input
    of the year makes it recomputed on the next read (rpms.reports.snapshots)."""
    from . import snapshots

    today = today or _today()
    year = check_year(year, today=today)
    district_ids = None if districts is None else [getattr(d, "pk", d) for d in districts]
    return snapshots.statistics(
        city=city, year=year, district_ids=district_ids, city_level=city_level, today=today,
        compute=lambda: compute_city_statistics(city=city, year=year, districts=districts, city_level=city_level,
                                                 today=today),
        constants={"definitions": DEFINITIONS, "labels": LABELS},
    )


def compute_city_statistics(*, city, year, districts=None, city_level: bool = True, today: dt.date | None = None) -> dict:
    """city_statistics computed from the rows now, neither kept nor cached."""
    from rpms.geography.models import District

    today = today or _today()
    year = check_year(year, today=today)
    period = _Period(year, today)
    policy = city.policy
    all_districts = list(District.objects.filter(city=city).order_by("sort_order", "code"))
    if districts is None:
        chosen, district_ids = all_districts, None
    else:
        wanted = {getattr(d, "pk", d) for d in districts}
        chosen = [d for d in all_districts if d.pk in wanted]
        district_ids = [d.pk for d in chosen]

    # pool and removals (city level) ---------------------------------------------------------------------------
    pool, removals = _pool_and_removals(city, period) if city_level else (None, None)

    # appointments -------------------------------------------------------------------------------------------
    found = _appointments(city, period, district_ids)
    appointment_rows = _district_rows(chosen, found["grouped"], lambda g: {k: g.get(k, 0) for k in APPOINTMENT_KEYS})
    appointment_total = _sum_rows(appointment_rows, APPOINTMENT_KEYS)
    appointment_total["serving_planners"] = found["total_planners"]

    # coverage -----------------------------------------------------------------------------------------------
    covered = _coverage(city, period, district_ids)

    def coverage_row(g):
        units, hit = g.get("units", 0), g.get("covered", 0)
        return {"units": units, "covered": hit, "uncovered": units - hit, "ratio": _ratio(hit, units)}

    coverage_rows = _district_rows(chosen, covered, coverage_row)
    coverage_total = _sum_rows(coverage_rows, ("units", "covered", "uncovered"))
    coverage_total["ratio"] = _ratio(coverage_total["covered"], coverage_total["units"])

    # grades -------------------------------------------------------------------------------------------------
    grade_columns = [{"code": g["code"], "label": g["label"]} for g in policy.grades or []]
    graded = _grades(city, period, district_ids)
    if graded is None:
        grades = {"available": False, "note": "年度考核模块尚未启用，暂无考核等次数据。", "columns": grade_columns,
                  "rows": [], "total": None}
    else:
        known = [c["code"] for c in grade_columns]
        extra = sorted({code for counts in graded.values() for code in counts if code not in known})
        grade_columns += [{"code": code, "label": "本市政策中已无此等次"} for code in extra]
        codes = known + extra
        grade_rows = _district_rows(chosen, graded, lambda g: {
            "counts": {code: g.get(code, 0) for code in codes}, "total": sum(g.get(code, 0) for code in codes)})
        grades = {
            "available": True, "columns": grade_columns, "rows": grade_rows,
            "total": {"counts": {code: sum(r["counts"][code] for r in grade_rows) for code in codes},
                      "total": sum(r["total"] for r in grade_rows)},
        }

    # duty hours ---------------------------------------------------------------------------------------------
    categories = [{"code": c["code"], "label": c["label"], "article": c.get("article", "")} for c in policy.duty_categories or []]
    duty = _duty_hours(city, period, district_ids)
    known = {c["code"] for c in categories}
    categories += [{"code": code, "label": code, "article": ""}
                   for code in sorted({code for cells in duty.values() for code in cells if code not in known})]
    codes = [c["code"] for c in categories]

    def duty_row(cells):
        by_category = {code: {"hours": _hours(cells[code]["hours"]), "confirmed_hours": _hours(cells[code]["confirmed_hours"]),
                              "records": cells[code]["records"], "confirmed_records": cells[code]["confirmed_records"]}
                       if code in cells else {"hours": 0.0, "confirmed_hours": 0.0, "records": 0, "confirmed_records": 0}
                       for code in codes}
        return {
            "by_category": by_category,
            "hours": _hours(sum(Decimal(str(v["hours"])) for v in by_category.values())),
            "confirmed_hours": _hours(sum(Decimal(str(v["confirmed_hours"])) for v in by_category.values())),
            "records": sum(v["records"] for v in by_category.values()),
            "confirmed_records": sum(v["confirmed_records"] for v in by_category.values()),
        }

    duty_rows = _district_rows(chosen, duty, duty_row)
    duty_total = {
        "by_category": {code: {
            "hours": _hours(sum(Decimal(str(r["by_category"][code]["hours"])) for r in duty_rows)),
            "confirmed_hours": _hours(sum(Decimal(str(r["by_category"][code]["confirmed_hours"])) for r in duty_rows)),
            "records": sum(r["by_category"][code]["records"] for r in duty_rows),
            "confirmed_records": sum(r["by_category"][code]["confirmed_records"] for r in duty_rows),
        } for code in codes},
        "hours": _hours(sum(Decimal(str(r["hours"])) for r in duty_rows)),
        "confirmed_hours": _hours(sum(Decimal(str(r["confirmed_hours"])) for r in duty_rows)),
        "records": sum(r["records"] for r in duty_rows),
        "confirmed_records": sum(r["confirmed_records"] for r in duty_rows),
    }

    # opinions -----------------------------------------------------------------------------------------------
    opinions = _opinions(city, period, district_ids)

    def opinion_row(g):
        row = {k: g.get(k, 0) for k in OPINION_KEYS}
        row["adoption_rate"] = _ratio(row["adopted"] + row["partly_adopted"], row["responded"])
        return row

    opinion_rows = _district_rows(chosen, opinions, opinion_row)
    opinion_total = _sum_rows(opinion_rows, OPINION_KEYS)
    opinion_total["adoption_rate"] = _ratio(opinion_total["adopted"] + opinion_total["partly_adopted"], opinion_total["responded"])

    # suggestions --------------------------------------------------------------------------------------------
    suggestions = _suggestions(city, period, district_ids)

    def response_times(days_hist, working_hist):
        return {"mean_days": _mean(days_hist), "median_days": _median(days_hist),
                "mean_working_days": _mean(working_hist), "median_working_days": _median(working_hist)}

    def suggestion_row(district):
        g = suggestions["grouped"].get(district.pk, {})
        row = {k: g.get(k, 0) for k in SUGGESTION_KEYS}
        row["on_time_rate"] = _ratio(row["on_time"], row["answered"])
        row.update(response_times(suggestions["days"].get(district.pk, {}), suggestions["working_days"].get(district.pk, {})))
        return {"district": district.code, "district_name": district.name, **row}

    suggestion_rows = [suggestion_row(d) for d in chosen]
    suggestion_total = _sum_rows(suggestion_rows, SUGGESTION_KEYS)
    suggestion_total["on_time_rate"] = _ratio(suggestion_total["on_time"], suggestion_total["answered"])
    merged_days: dict = defaultdict(int)
    merged_working: dict = defaultdict(int)
    chosen_ids = {d.pk for d in chosen}
    for district_id, hist in suggestions["days"].items():
        if district_id in chosen_ids:
            for value, n in hist.items():
                merged_days[value] += n
    for district_id, hist in suggestions["working_days"].items():
        if district_id in chosen_ids:
            for value, n in hist.items():
                merged_working[value] += n
    suggestion_total.update(response_times(merged_days, merged_working))

    # finance ------------------------------------------------------------------------------------------------
    money = _finance(city, period, district_ids)
    if money is None:
        finance = {"available": False, "note": "补贴与服务费用模块尚未启用，暂无支付数据。", "rows": [], "total": None}
    else:
        finance_rows = _district_rows(chosen, money, lambda g: {k: _money(g.get(k)) for k in FINANCE_KEYS})
        finance = {"available": True, "rows": finance_rows, "total": {
            k: _money(sum(Decimal(str(r[k])) for r in finance_rows)) for k in FINANCE_KEYS}}

    result = {
        "city": {"code": city.code, "name": city.name},
        "year": year,
        "article": policy_article(city, "statistics"),
        "period": period.as_dict(),
        "generated_at": clock.localtime().isoformat(timespec="seconds"),
        "scope": {
            "whole_city": district_ids is None,
            "districts": [d.code for d in chosen],
            "city_level": city_level,
            "total_label": "全市合计" if district_ids is None else ("所选区合计" if city_level else "所辖区合计"),
        },
        "districts": [{"code": d.code, "name": d.name} for d in chosen],
        "definitions": DEFINITIONS,
        "labels": LABELS,
        "pool": pool,
        "removals": removals,
        "limit_exceptions": _limit_exceptions(city, period) if city_level else None,
        "appointments": {"rows": appointment_rows, "total": appointment_total},
        "coverage": {"rows": coverage_rows, "total": coverage_total},
        "grades": grades,
        "duty_hours": {"categories": categories, "rows": duty_rows, "total": duty_total},
        "opinions": {"rows": opinion_rows, "total": opinion_total},
        "suggestions": {"response_working_days": policy.suggestion_response_working_days,
                        "rows": suggestion_rows, "total": suggestion_total},
        "finance": finance,
    }
    if not city_level:
        result["withheld"] = "资源库和调出情况为全市口径，仅市级管理员和审计员可见；合计为您所辖区的合计。"
    return result


# --- scoping -----------------------------------------------------------------------------------------------------


def statistics_scope(*, user, city, district_codes=()) -> tuple[list | None, bool]:
    """(districts, city_level) the user may see for `city`, narrowed to `district_codes` if given.

    City administrators of the city and auditors: every district, city-level figures included. District
    officers: their own districts of the city only, city-level figures withheld. Anyone else: Forbidden.
    A district code outside the user's districts (or unknown) → NotFound, so its existence is not revealed."""
    from rpms.geography.models import District

    if not getattr(user, "is_authenticated", False):
        raise Forbidden("请先登录。")
    if not (user.is_superuser or user.role in ALLOWED_ROLES):
        raise Forbidden("只有市级管理员、审计员和区级工作人员可以查看年度统计。")
    codes = [str(code).strip() for code in district_codes or () if str(code).strip()]
    if is_city_wide(user, city):
        if not codes:
            return None, True
        found = list(District.objects.filter(city=city, code__in=codes))
        if len(found) != len(set(codes)):
            raise NotFound("所选的区不存在。", code="district_not_found")
        return found, True
    visible = visible_district_ids(user, city) if user.role == Role.DISTRICT_OFFICER else set()
    if not visible:
        raise Forbidden(f"您无权查看{city.name}的年度统计。")
    mine = list(District.objects.filter(pk__in=visible).order_by("sort_order", "code"))
    if not codes:
        return mine, False
    by_code = {d.code: d for d in mine}
    if any(code not in by_code for code in codes):
        raise NotFound("所选的区不存在或不在您的管辖范围内。", code="district_not_found")
    return [by_code[code] for code in dict.fromkeys(codes)], False


def statistics_for_user(*, user, city, year, district_codes=(), today: dt.date | None = None) -> dict:
    """city_statistics scoped to what `user` may see (see statistics_scope)."""
    districts, city_level = statistics_scope(user=user, city=city, district_codes=district_codes)
    return city_statistics(city=city, year=year, districts=districts, city_level=city_level, today=today)


def statistics_cities(user) -> list:
    """The cities whose statistics the user may open: all active cities for superusers and auditors without
    a city; otherwise the user's own city."""
    from rpms.cities.models import City

    cities = City.objects.filter(is_active=True).select_related("policy").order_by("sort_order", "code")
    if user.is_superuser or (user.role == Role.AUDITOR and user.city_id is None):
        return list(cities)
    return list(cities.filter(pk=user.city_id))


def statistics_years(city, *, today: dt.date | None = None) -> list[int]:
    """Years offered in the year picker: from the first appointment's year (or this year) to this year."""
    from rpms.appointments.models import Appointment

    today = today or _today()
    first = Appointment.objects.filter(city=city).aggregate(first=Min("start"))["first"]
    start = max(FIRST_YEAR, min(first.year, today.year) if first else today.year)
    return list(range(today.year, start - 1, -1))
