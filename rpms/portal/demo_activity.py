"""The demo's activity for `seed_demo`: departments, appointments (filed and unfiled), dispatch requests
with a matching run awaiting confirmation, the demo planner's duty records and written opinions, and
residents' suggestions — so that `make run` opens on a system in use.

Everything goes through the real services (the same rules, the same audit rows) except the
departments, which have no service (administrators keep them in the admin; B11(3)). Every text says
it is demo data; every planner is one of the fictional planners. Each step first looks for what it
would create and skips it when present, so a second run creates nothing and writes no audit row.

What the rules do not allow is not faked:
- appointments start at most `START_GRACE_DAYS` days ago and run a full first term, so no appointment
  expires within the warning window and duty records reach back only to the appointments' start;
- the one overdue suggestion is submitted with the system's clock moved to an earlier day (the
  service computes its receipt date and deadline from that clock); on that day nobody served the unit,
  so the service routes it to the district, as it would have."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction

from rpms.accounts.models import User
from rpms.core import clock
from rpms.core.errors import DomainError
from rpms.geography.models import Department, District, ResponsibilityUnit
from rpms.registry.models import Planner, PoolStatus
from rpms.testing.pdfs import tiny_pdf

DEMO_NOTE = "演示数据（虚构）"
CONTACT_NOTE = "演示数据，无真实联系方式"
FEE_YUAN_BEIJING = 80000  # a fictional contract fee (B21: fixed in the contract)

# (district code or None for city-level, name); every name ends with （演示）.
DEPARTMENTS = {
    "beijing": [
        (None, "北京市城市管理委员会（演示）"),
        (None, "北京市交通委员会（演示）"),
        ("110108", "海淀区城市管理委员会（演示）"),
        ("110108", "海淀区住房和城乡建设委员会（演示）"),
        ("110108", "海淀区园林绿化局（演示）"),
        ("110105", "朝阳区城市管理委员会（演示）"),
        ("110105", "朝阳区住房和城乡建设委员会（演示）"),
    ],
    "pingdingshan": [
        (None, "平顶山市城市管理局（演示）"),
        (None, "平顶山市住房和城乡建设局（演示）"),
        ("410402", "新华区住房和城乡建设局（演示）"),
        ("410403", "卫东区城市管理局（演示）"),
    ],
}

HAIDIAN, CHAOYANG = "110108", "110105"
WANSHOULU = "110108001"  # 万寿路街道: street_demo's subdistrict; the demo planner serves it

# Beijing units by the name of their subdistrict: (district, subdistrict name, role, contract state).
# B2, B19(1)(5): each street office proposes its planner and the district approves; B19(3): the office
# uploads the signed contract and the district files it ("filed"), or it waits for filing ("submitted"),
# or is not signed yet ("unsigned").
# 万寿路街道 has two roles (B8 双师): the demo planner as 责任规划师 and another as 责任建筑师.
BEIJING_PLAN = [
    (HAIDIAN, "万寿路街道", "responsible_planner", "filed"),
    (HAIDIAN, "万寿路街道", "responsible_architect", "filed"),
    (HAIDIAN, "羊坊店街道", "responsible_planner", "filed"),
    (HAIDIAN, "甘家口街道", "responsible_planner", "filed"),
    (HAIDIAN, "八里庄街道", "responsible_planner", "filed"),
    (HAIDIAN, "紫竹院街道", "responsible_planner", "filed"),
    (HAIDIAN, "北下关街道", "responsible_planner", "filed"),
    (HAIDIAN, "中关村街道", "responsible_planner", "filed"),
    (HAIDIAN, "学院路街道", "responsible_planner", "filed"),
    (HAIDIAN, "海淀街道", "responsible_planner", "filed"),
    (HAIDIAN, "清华园街道", "responsible_planner", "filed"),
    (HAIDIAN, "燕园街道", "responsible_planner", "filed"),
    (HAIDIAN, "花园路街道", "responsible_planner", "submitted"),
    (CHAOYANG, "建外街道", "responsible_planner", "filed"),
    (CHAOYANG, "朝外街道", "responsible_planner", "filed"),
    (CHAOYANG, "呼家楼街道", "responsible_planner", "filed"),
    (CHAOYANG, "三里屯街道", "responsible_planner", "filed"),
    (CHAOYANG, "团结湖街道", "responsible_planner", "filed"),
    (CHAOYANG, "望京街道", "responsible_planner", "unsigned"),
]
# A street office's proposal left for district_haidian to approve or return (its account is created too).
SELECTION_PENDING = [(HAIDIAN, "北太平庄街道", "responsible_planner", "unsigned")]
# Stands in for the signed, sealed scan (a tiny PDF the upload check accepts); marked as demo data.
DEMO_SIGNED_PDF = tiny_pdf("DEMO: signed contract scan (fictional)")
# Pingdingshan: how many units per district (the first by name), all filed by the city bureau
# (P6(3): the city signs; there is no demo district officer for Pingdingshan).
PINGDINGSHAN_PLAN = [("410402", 2), ("410403", 2), ("410411", 1)]
ROLE_SPECIALTY = {"responsible_architect": "architecture"}

# One dispatch request per Beijing district officer (P6(1)), for units nobody serves yet.
DISPATCH_PLAN = [
    ("district_haidian", HAIDIAN, ["上地街道", "清河街道"], [], "科技园区周边街区更新与职住平衡（演示）"),
    ("district_chaoyang", CHAOYANG, ["双井街道", "劲松街道"], ["urban_renewal"], "老旧小区综合整治与街区更新（演示）"),
]

# The demo planner's duty records in 万寿路街道: (day offset from the appointment's start, category,
# hours, place, description, what street_demo does: "confirm" / "query" / None).
DUTY_PLAN = [
    (0, "research", "3.0", "万寿路街道翠微路社区", "踏勘老旧小区公共空间与停车现状，拍照记录问题点位（演示）", "confirm"),
    (1, "public_liaison", "2.0", "万寿路街道社区服务中心", "参加社区居民议事会，收集加装电梯、停车和养老设施诉求（演示）", "confirm"),
    (2, "professional_opinion", "2.5", "万寿路街道办事处会议室", "参与某小区综合整治实施方案审查会，提出专业意见（演示）", "confirm"),
    (3, "education_training", "1.5", "万寿路街道文化活动中心", "面向社区居民宣讲城市更新政策与责任规划师制度（演示）", "query"),
    (5, "co_governance", "2.0", "万寿路街道某小区", "组织街道、物业与居民共商口袋公园设计方案（演示）", None),
    (6, "supervision_feedback", "1.0", "万寿路街道复兴路沿线", "跟踪街道整治项目实施情况，记录与方案不符之处（演示）", None),
]
DUTY_QUESTION = "请补充本次宣讲的参加人数及签到材料（演示）。"

OPINION_ISSUED = {
    "subject": "万寿路街道某老旧小区综合整治实施方案（演示）",
    "subject_kind": "implementation_scheme",
    "developer": "示例物业管理有限公司（虚构）",
    "design_unit": "示例建筑设计研究院（虚构）",
    "reviewed_documents": ["综合整治实施方案（送审稿，演示）", "总平面布置图（演示）"],
    "findings": "一、方案未统筹考虑加装电梯与消防通道的关系；二、停车位布置挤占了现有绿地；三、无障碍设施不连续。（演示）",
    "recommendations": "建议结合居民议事会意见调整停车布局，保留集中绿地，完善无障碍通行路线，并分期实施。（演示）",
}
OPINION_DRAFT = {
    "subject": "万寿路街道口袋公园设计方案（演示）",
    "subject_kind": "design_scheme",
    "design_unit": "示例景观规划设计有限公司（虚构）",
    "findings": "（草稿）方案对儿童活动区与老年人休憩区的分区考虑不足。（演示）",
}

# Residents' suggestions: (unit key, category, content, handling). Handling: ("reply", who, text),
# ("reply_close", who, text), ("forward", who, department name), None (left waiting), "overdue".
SUGGESTION_PLAN = [
    ("wanshoulu", "suggestion", "小区东门外人行道常被共享单车占用，老人出行不便，建议划定停放区。（演示）",
     ("reply_close", "planner_demo", "已与街道和运营企业沟通，东门外将划定非机动车停放区并安排专人巡查。（演示）")),
    ("wanshoulu", "suggestion", "建议在社区空地增设儿童游乐设施和休息座椅。（演示）",
     ("reply", "planner_demo", "已纳入口袋公园设计方案，方案征求意见时将通知居民参加。（演示）")),
    ("wanshoulu", "problem", "复兴路辅路路口夜间照明不足，行人过街存在安全隐患。（演示）",
     ("forward", "planner_demo", "海淀区城市管理委员会（演示）")),
    ("wanshoulu", "suggestion", "建议公布老旧小区改造的施工时间安排，方便居民提前准备。（演示）", None),
    ("chaoyang", "suggestion", "建议优化地铁站出入口周边的非机动车停放秩序。（演示）",
     ("reply", "district_chaoyang", "已转请街道会同责任规划师研究停放区设置，预计下月完成。（演示）")),
    ("chaoyang", "problem", "社区菜市场周边占道经营，早高峰通行困难。（演示）", "overdue"),
]
CHAOYANG_SUGGESTION_UNIT = "建外街道"
OVERDUE_RECEIVED_DAYS_AGO = 28  # well over 10 working days (Beijing's reply period) before today


@dataclass
class Report:
    created: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def add(self, kind: str, n: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + n


def _unit(district: District, subdistrict_name: str) -> ResponsibilityUnit:
    """The active unit holding the named subdistrict now."""
    return (
        ResponsibilityUnit.objects.filter(
            district=district, dissolved_at__isnull=True, memberships__left_at__isnull=True,
            memberships__subdistrict__name=subdistrict_name,
        ).select_related("city__policy", "district").distinct().get()
    )


class DemoActivity:
    def __init__(self, cities: dict, report: Report | None = None):
        self.cities = cities
        self.report = report or Report()
        self.users = {u.username: u for u in User.objects.filter(username__in=[
            "city_admin", "pds_admin", "district_haidian", "district_chaoyang", "street_demo", "planner_demo",
        ])}

    def _try(self, what: str, act, **kwargs):
        """Runs `act(**kwargs)` (one service, or a few acts that belong together) all-or-nothing; a
        refusal by the rules is reported and skipped, leaving nothing of it behind."""
        try:
            with transaction.atomic():
                return act(**kwargs)
        except DomainError as exc:
            self.report.skipped.append(f"{what}：{exc}")
            return None

    def run(self) -> Report:
        self.departments()
        self.appointments()
        self.dispatch()
        self.duties()
        self.opinions()
        self.suggestions()
        return self.report

    # --- departments (no service: the admin-equivalent create, with full_clean) --------------------

    def departments(self) -> None:
        for code, rows in DEPARTMENTS.items():
            city = self.cities[code]
            districts = {d.code: d for d in city.districts.all()}
            for district_code, name in rows:
                district = districts[district_code] if district_code else None
                if Department.objects.filter(city=city, district=district, name=name).exists():
                    continue
                department = Department(city=city, district=district, name=name, contact=CONTACT_NOTE)
                department.full_clean()
                department.save()
                self.report.add("departments")

    # --- appointments (B19, P6(2)-(3)) ------------------------------------------------------------

    def _start(self) -> dt.date:
        from rpms.appointments.services import START_GRACE_DAYS

        # As early as the service accepts, so that the demo planner has a week of duty records.
        return clock.today() - dt.timedelta(days=START_GRACE_DAYS)

    def _pool(self, city):
        return list(
            Planner.objects.filter(city=city, is_fictional=True, pool_status=PoolStatus.ACTIVE)
            .prefetch_related("familiar_districts").order_by("id")
        )

    def _pick(self, pool, busy: set[int], district, role: str):
        """The first free fictional planner, preferring one who knows the district (and, for a
        specialist role, has the specialty)."""
        # The demo account's planner serves where the plan puts it; Pingdingshan's applicants have accounts too.
        demo_user = self.users.get("planner_demo")
        free = [p for p in pool if p.pk not in busy and (p.user_id is None or p.user_id != getattr(demo_user, "pk", None))]
        specialty = ROLE_SPECIALTY.get(role)
        for wanted in ((True, True), (True, False), (False, True), (False, False)):
            for planner in free:
                knows = district.pk in {d.pk for d in planner.familiar_districts.all()}
                has = specialty is None or specialty in (planner.specialties or [])
                if (not wanted[0] or knows) and (not wanted[1] or has):
                    return planner
        return None

    def _entity(self, unit):
        """The demo account of the unit's street office (seed_demo creates one per planned street)."""
        names = [s.pk for s in unit.current_subdistricts]
        return (User.objects.filter(role="hiring_entity", subdistricts__in=names, username__startswith="street_")
                .order_by("id").first())

    def _focus(self, unit) -> str:
        zone = unit.city.policy.zone_type(unit.district.zone_type) if unit.district.zone_type else None
        return "；".join(list(zone.get("focus") or [])[:2]) if zone else ""

    def _appoint(self, *, actor, planner, unit, role, fee_yuan, contract: str, filer=None):
        """The city's own path: local selection (the street office proposes, the district officer `actor`
        approves) or city dispatch (`actor`, the bureau, appoints); then the contract as far as `contract`
        says: signed and submitted by the signer, filed by `filer` (Pingdingshan: filed by the submission)."""
        from rpms.appointments import proposals
        from rpms.appointments.services import appointment_create

        what = f"聘任 {planner.name} · {unit.name}"
        if proposals.is_local_selection(unit.city):
            entity = self._entity(unit)
            if entity is None:
                self.report.skipped.append(f"{unit.name}：没有演示用的聘任主体账户")
                return None

            def select():
                proposal = proposals.proposal_submit(
                    actor=entity, planner=planner, unit=unit, role=role, start=self._start(), fee_yuan=fee_yuan,
                    fee_note=DEMO_NOTE if fee_yuan else "", service_focus=self._focus(unit),
                )
                return proposals.proposal_approve(actor=actor, proposal=proposal)

            appointment = self._try(what, select)
            if appointment is not None:
                self.report.add("selection_proposals")
            signer = entity
        else:
            appointment = self._try(
                what, appointment_create,
                actor=actor, planner=planner, unit=unit, role=role, start=self._start(), fee_yuan=fee_yuan,
                fee_note=DEMO_NOTE if fee_yuan else "", service_focus=self._focus(unit), source="manual", note=DEMO_NOTE,
            )
            signer = actor
        if appointment is None:
            return None
        self.report.add("appointments")
        if contract in ("submitted", "filed") and self._sign(appointment, signer=signer, fee_yuan=fee_yuan):
            appointment.refresh_from_db()
            if contract == "filed" and not appointment.is_filed:
                from rpms.appointments.services import appointment_file

                if self._try(f"备案 {planner.name} · {unit.name}", appointment_file, actor=filer, appointment=appointment):
                    self.report.add("appointments_filed")
            elif appointment.is_filed:
                self.report.add("appointments_filed")
        return appointment

    def _sign(self, appointment, *, signer, fee_yuan):
        """B19(3) / P6(3): the signer uploads the signed contract (a demo PDF), signed on the start day."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from rpms.appointments.signing import signed_contract_submit

        scan = SimpleUploadedFile("聘用合同签字盖章扫描件（演示）.pdf", DEMO_SIGNED_PDF, content_type="application/pdf")
        done = self._try(f"上传签订的聘用合同 {appointment.planner.name} · {appointment.unit.name}",
                         signed_contract_submit, actor=signer, appointment=appointment, file=scan,
                         signed_on=appointment.start, fee_yuan=fee_yuan or 0)
        if done is not None:
            self.report.add("contracts_signed")
        return done

    def appointments(self) -> None:
        from rpms.appointments.models import Appointment, SelectionProposal

        demo_planner = Planner.objects.filter(user=self.users.get("planner_demo")).first()
        for code in ("beijing", "pingdingshan"):
            city = self.cities[code]
            pool = self._pool(city)
            busy = set(Appointment.objects.filter(city=city).not_over().values_list("planner_id", flat=True))
            busy |= set(SelectionProposal.objects.filter(city=city, status="pending").values_list("planner_id", flat=True))
            districts = {d.code: d for d in city.districts.all()}
            if code == "beijing":
                steps = [(districts[dc], _unit(districts[dc], name), role, contract)
                         for dc, name, role, contract in BEIJING_PLAN]
            else:
                steps = []
                for district_code, count in PINGDINGSHAN_PLAN:
                    units = ResponsibilityUnit.objects.filter(
                        district=districts[district_code], dissolved_at__isnull=True
                    ).select_related("city__policy", "district").order_by("name", "id")[:count]
                    steps += [(districts[district_code], unit, "responsible_planner", "filed") for unit in units]
            for district, unit, role, contract in steps:
                if Appointment.objects.filter(unit=unit, role=role).exists():
                    continue
                if code == "beijing":
                    officer = self.users["district_haidian" if district.code == HAIDIAN else "district_chaoyang"]
                    actor, filer, fee = officer, officer, FEE_YUAN_BEIJING
                else:
                    actor = filer = self.users["pds_admin"]
                    fee = None
                if unit.memberships.filter(left_at__isnull=True, subdistrict__code=WANSHOULU).exists() \
                        and role == "responsible_planner" and demo_planner is not None:
                    planner = demo_planner
                else:
                    planner = self._pick(pool, busy, district, role)
                if planner is None:
                    self.report.skipped.append(f"{unit.name}：资源库中没有空闲的虚构责任规划师")
                    continue
                if self._appoint(actor=actor, filer=filer, planner=planner, unit=unit, role=role, fee_yuan=fee,
                                 contract=contract):
                    busy.add(planner.pk)
            if code == "beijing":
                self._pending_selection(city, districts, pool, busy)

    def _pending_selection(self, city, districts, pool, busy) -> None:
        """A street office's proposal waiting for the district (B19(1)(5)), left pending."""
        from rpms.appointments import proposals
        from rpms.appointments.models import Appointment, SelectionProposal

        for district_code, name, role, _contract in SELECTION_PENDING:
            district = districts[district_code]
            unit = _unit(district, name)
            if SelectionProposal.objects.filter(unit=unit).exists() or Appointment.objects.filter(unit=unit).exists():
                continue
            entity = self._entity(unit)
            planner = self._pick(pool, busy, district, role)
            if entity is None or planner is None:
                self.report.skipped.append(f"{unit.name}：没有演示用的聘任主体账户或空闲的虚构责任规划师")
                continue
            if self._try(f"提名 {planner.name} · {unit.name}", proposals.proposal_submit, actor=entity, planner=planner,
                         unit=unit, role=role, start=self._start() + dt.timedelta(days=14),
                         fee_yuan=FEE_YUAN_BEIJING, fee_note=DEMO_NOTE, service_focus=self._focus(unit)):
                self.report.add("selection_proposals")
                busy.add(planner.pk)

    # --- dispatch requests and a matching run (P6(1)-(2)) -----------------------------------------

    def dispatch(self) -> None:
        from rpms.dispatch.models import DispatchRequest, RequestStatus
        from rpms.dispatch.services import dispatch_request_accept, dispatch_request_submit, matching_run

        city = self.cities["beijing"]
        admin = self.users["city_admin"]
        districts = {d.code: d for d in city.districts.all()}
        to_match = []
        for username, district_code, names, specialties, focus in DISPATCH_PLAN:
            district = districts[district_code]
            request = DispatchRequest.objects.filter(district=district, note=DEMO_NOTE).first()
            if request is None:
                units = [_unit(district, name) for name in names]
                request = self._try(
                    f"{district.name}派驻申请", dispatch_request_submit,
                    actor=self.users[username], city=city, district=district, role="responsible_planner", units=units,
                    specialties=specialties, slots_per_unit=1, service_focus=focus, note=DEMO_NOTE,
                )
                if request is None:
                    continue
                self.report.add("dispatch_requests")
            if request.status == RequestStatus.SUBMITTED:
                if self._try(f"受理{district.name}派驻申请", dispatch_request_accept, actor=admin, request=request):
                    self.report.add("dispatch_requests_accepted")
                request.refresh_from_db()
            if request.status == RequestStatus.ACCEPTED and not request.runs.exists():
                to_match.append(request.pk)
        if to_match:
            run = self._try("统筹选派", matching_run, actor=admin, city=city, request_ids=to_match)
            if run is not None:
                self.report.add("matching_runs")
                self.report.add("proposals", run.proposals.count())

    # --- the demo planner's duty records (B11, B14) -----------------------------------------------

    def _wanshoulu(self):
        from rpms.appointments.models import Appointment

        planner_user = self.users["planner_demo"]
        return (
            Appointment.objects.filter(planner__user=planner_user, unit__memberships__subdistrict__code=WANSHOULU,
                                       unit__memberships__left_at__isnull=True, role="responsible_planner")
            .select_related("unit__city__policy", "unit__district").order_by("id").first()
        )

    def duties(self) -> None:
        from rpms.duties.models import DutyRecord
        from rpms.duties.services import duty_record_confirm, duty_record_create, duty_record_query

        appointment = self._wanshoulu()
        if appointment is None:
            self.report.skipped.append("履职记录：演示规划师未在万寿路街道任职")
            return
        planner_user, street = self.users["planner_demo"], self.users["street_demo"]
        unit = appointment.unit
        for offset, category, hours, place, description, then in DUTY_PLAN:
            if DutyRecord.objects.filter(planner=appointment.planner, description=description).exists():
                continue
            day = appointment.start + dt.timedelta(days=offset)
            if day > clock.today():
                continue  # not yet: a record cannot be dated in the future
            record = self._try(
                f"履职记录 {day}", duty_record_create,
                actor=planner_user, unit=unit, category=category, date=day, hours=hours, place=place,
                description=description, participants="街道工作人员、社区居民代表（演示）",
            )
            if record is None:
                continue
            self.report.add("duty_records")
            if then == "confirm" and self._try("确认履职记录", duty_record_confirm, actor=street, record=record):
                self.report.add("duty_records_confirmed")
            elif then == "query" and self._try("质询履职记录", duty_record_query, actor=street, record=record,
                                               question=DUTY_QUESTION):
                self.report.add("duty_records_queried")

    # --- written opinions (B11(3), B16) -----------------------------------------------------------

    def opinions(self) -> None:
        from rpms.opinions.models import WrittenOpinion
        from rpms.opinions.services import opinion_create, opinion_interest_declare, opinion_issue

        appointment = self._wanshoulu()
        if appointment is None:
            return
        planner_user = self.users["planner_demo"]
        unit = appointment.unit
        if not WrittenOpinion.objects.filter(planner=appointment.planner, subject=OPINION_ISSUED["subject"]).exists():
            department = Department.objects.filter(city=unit.city, district=unit.district,
                                                   name="海淀区住房和城乡建设委员会（演示）").first()

            def issue():
                opinion = opinion_create(actor=planner_user, unit=unit, departments=[department.pk] if department else [],
                                         **OPINION_ISSUED)
                opinion_interest_declare(actor=planner_user, opinion=opinion, has_conflict=False,
                                         note="与建设单位、设计单位无利害关系（演示）")
                return opinion_issue(actor=planner_user, opinion=opinion)

            if self._try("出具书面意见", issue):
                self.report.add("opinions_issued")
        drafted = WrittenOpinion.objects.filter(planner=appointment.planner, subject=OPINION_DRAFT["subject"]).exists()
        if not drafted and self._try("起草书面意见", opinion_create, actor=planner_user, unit=unit, **OPINION_DRAFT):
            self.report.add("opinions_draft")

    # --- residents' suggestions (B22, P3(3)) ------------------------------------------------------

    def suggestions(self) -> None:
        from rpms.suggestions.models import Suggestion
        from rpms.suggestions.services import suggestion_close, suggestion_forward, suggestion_reply, suggestion_submit

        city = self.cities["beijing"]
        districts = {d.code: d for d in city.districts.all()}
        units = {
            "wanshoulu": ResponsibilityUnit.objects.filter(
                memberships__subdistrict__code=WANSHOULU, memberships__left_at__isnull=True, dissolved_at__isnull=True,
            ).select_related("city__policy", "district").first(),
            "chaoyang": _unit(districts[CHAOYANG], CHAOYANG_SUGGESTION_UNIT),
        }
        for key, category, content, handling in SUGGESTION_PLAN:
            unit = units[key]
            if Suggestion.objects.filter(unit=unit, content=content).exists():
                continue
            if handling == "overdue":
                moment = clock.now() - dt.timedelta(days=OVERDUE_RECEIVED_DAYS_AGO)
                with clock.moved_to(moment):
                    suggestion = self._try("逾期意见建议", suggestion_submit, actor=None, unit=unit, category=category,
                                           content=content)
                if suggestion is not None:
                    self.report.add("suggestions")
                    self.report.add("suggestions_overdue")
                continue
            suggestion = self._try("居民意见建议", suggestion_submit, actor=None, unit=unit, category=category,
                                   content=content, contact_name="居民（虚构）")
            if suggestion is None:
                continue
            self.report.add("suggestions")
            if handling is None:
                continue
            act, username, text = handling
            actor = self.users[username]
            if act in ("reply", "reply_close"):
                if self._try("答复意见建议", suggestion_reply, actor=actor, suggestion=suggestion, text=text):
                    self.report.add("suggestions_replied")
                    if act == "reply_close" and self._try("办结意见建议", suggestion_close, actor=actor,
                                                          suggestion=suggestion, note=DEMO_NOTE):
                        self.report.add("suggestions_closed")
            elif act == "forward":
                department = Department.objects.filter(city=city, name=text).first()
                if self._try("转交意见建议", suggestion_forward, actor=actor, suggestion=suggestion, department=department,
                             note="请核查路口照明设施（演示）"):
                    self.report.add("suggestions_forwarded")
