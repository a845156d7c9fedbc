"""The demo's resource pool (资源库), admitted the way each city admits its planners (issue #12 item 6):
every demo planner has its admission date, its dossier and the documents of its path, so that the statistics
(rpms.reports: 年初在库 + 年内入库 − 年内调出 = 在库) and the registry tell the same story.

- Pingdingshan (P5(1)–(2), policy `pool_requires_notice`): the bureau publishes an open call; each fictional
  person registers (an account without a usable password: nobody signs in as them), applies with their
  facts and a proof (a demo PDF); the bureau reviews with scores, publishes the notice for the policy's
  working days, and closes it once it has run: the applicants enter the pool (rpms.recruitment).
- Beijing (B19(1), no notice required): the city's existing members are entered from a roster (名册导入,
  with each member's original admission date and the document number of the admission decision), and a few
  are added by direct commission (定向委托) with the reason (rpms.registry).

This history happened before today: it runs with the system's clock moved to its day (rpms.core.clock), so
calls, applications, notices and dossier events carry their own dates, the notice runs its full period,
and everybody is in the pool before the demo's appointments start. The records the paths make are ordinary
ones; they are then marked as fictional demo data (`planners_mark_fictional`).

Idempotent: a person already in the city's registry (by name) is left alone; a second run admits nobody
and writes no audit row."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from rpms.accounts.models import Role, User
from rpms.core import clock
from rpms.core.errors import DomainError
from rpms.core.identity import id_number_checksum
from rpms.registry.models import Planner
from rpms.testing.pdfs import tiny_pdf

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["思源", "嘉宁", "明远", "若溪", "一凡", "子衿", "晓岚", "安然", "景行", "书言", "清和", "知微",
         "怀瑾", "南乔", "星河", "以宁", "青禾", "语桐", "承泽", "雨辰", "慕白", "文澜", "初夏", "致远"]
EMPLOYERS = ["示例城市规划设计研究院（虚构）", "示例建筑设计研究院（虚构）", "示例大学建筑学院（虚构）",
             "示例景观规划设计有限公司（虚构）", "示例市政工程设计院（虚构）", "示例城市更新研究中心（虚构）"]
MAJORS = {"urban_rural_planning": "城乡规划", "architecture": "建筑学", "landscape": "风景园林",
          "urban_design": "城市设计", "municipal_transport": "交通工程", "structural_engineering": "结构工程"}
BEIJING_SHARE = 0.7
# Beijing: the last few of its people were added by direct commission, the others came with the roster.
BEIJING_COMMISSIONED = 3
# Where the fictional ID numbers say the person was registered (a district of the city; fictional people).
ID_AREA = {"beijing": "110108", "pingdingshan": "410402"}

# Days before today (the history's timeline; the demo's appointments start 7 days ago).
ROSTER_DAYS_AGO = 100
COMMISSION_DAYS_AGO = 30
CALL_DAYS_AGO = 80
CALL_OPEN_DAYS = 14
REVIEW_DAYS_AGO = 62
NOTICE_DAYS_AGO = 61

CALL_TITLE = "平顶山市责任规划师资源库公开征集（演示）"
COMMISSION_REASON = "街道城市更新项目急需相关专业人员，经市规划自然资源委研究定向委托入库（演示）"
# A tiny but complete PDF standing in for a degree certificate (the upload check reads the magic bytes).
DEMO_PROOF_PDF = tiny_pdf("DEMO: proof of qualification (fictional)")


@dataclass
class PoolReport:
    created: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def add(self, kind: str, n: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + n


def _fictional_id_number(city_code: str, index: int) -> str:
    birth = dt.date(1970, 1, 1) + dt.timedelta(days=97 * index)
    first17 = f"{ID_AREA[city_code]}{birth:%Y%m%d}9{index:02d}"
    return first17 + id_number_checksum(first17)


def demo_people(cities: dict, total: int) -> dict[str, list[dict]]:
    """The fictional people of each city, drawn the same way on every machine (random.Random(2026)), each
    meeting the city's eligibility rules (B18 / P4): one who would not gets a registration."""
    from rpms.cities.eligibility import eligibility_check
    from rpms.recruitment.services import declaration_rules, facts_from_data

    rng = random.Random(2026)
    people: dict[str, list[dict]] = {}
    index = 0
    for code, count in (("beijing", round(total * BEIJING_SHARE)), ("pingdingshan", total - round(total * BEIJING_SHARE))):
        city = cities[code]
        policy = city.policy
        districts = list(city.districts.all())
        specialty_codes = [s["code"] for s in policy.specialties]
        declarations = [d["code"] for d in declaration_rules(policy)]
        people[code] = []
        for _ in range(count):
            index += 1
            major = rng.choice(list(MAJORS))
            title_level = rng.choice(["intermediate", "deputy_senior", "deputy_senior", "senior"])
            registrations = rng.sample(["registered_planner", "registered_architect_1", "registered_architect_2"],
                                       k=rng.choice([0, 1, 1, 2]))
            specialties = sorted({major} | set(rng.sample(specialty_codes, k=rng.choice([1, 2]))))
            person = {
                "index": index,
                "name": f"{SURNAMES[index % len(SURNAMES)]}{GIVEN[(index * 7) % len(GIVEN)]}（虚构）",
                "employer": rng.choice(EMPLOYERS),
                "degree": rng.choice(["bachelor", "master", "master", "doctor"]),
                "major": MAJORS[major], "major_field": major, "title_level": title_level, "title_field": major,
                "registrations": registrations, "experience_years": rng.randint(3, 25), "specialties": specialties,
                "districts": rng.sample(districts, k=min(2, len(districts))),
                "email": f"planner{index:02d}@example.invalid",
                "id_number": _fictional_id_number(code, index), "mobile": f"1380013{index:04d}",
            }
            facts = facts_from_data({"degree": person["degree"], "degree_field": major, "title_level": title_level,
                                     "title_field": major, "registrations": registrations,
                                     "experience_years": person["experience_years"], "declarations": declarations})
            if not eligibility_check(policy=policy, facts=facts).eligible:
                person["registrations"] = sorted({*registrations, "registered_planner"})
            people[code].append(person)
    return people


class DemoPool:
    def __init__(self, cities: dict, total: int, report: PoolReport | None = None):
        self.cities = cities
        self.total = total
        self.report = report or PoolReport()
        self.today = clock.today()
        self.admins = {u.city.code: u for u in User.objects.filter(username__in=["city_admin", "pds_admin"]).select_related("city")}

    def _try(self, what: str, act, **kwargs):
        try:
            with transaction.atomic():
                return act(**kwargs)
        except DomainError as exc:
            self.report.skipped.append(f"{what}：{exc}")
            return None

    def _day(self, days_ago: int, hour: int = 10, minute: int = 0) -> dt.datetime:
        day = self.today - dt.timedelta(days=days_ago)
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    def run(self) -> PoolReport:
        people = demo_people(self.cities, self.total)
        for code, admit in (("beijing", self.beijing), ("pingdingshan", self.pingdingshan)):
            city = self.cities[code]
            known = set(Planner.objects.filter(city=city).values_list("name", flat=True))
            missing = [p for p in people[code] if p["name"] not in known]
            if missing:
                admit(city, missing)
            self._mark_fictional(city, [p["name"] for p in people[code]])
        return self.report

    def _mark_fictional(self, city, names) -> None:
        from rpms.registry.services import planners_mark_fictional

        planners = list(Planner.objects.filter(city=city, name__in=names, is_fictional=False))
        if planners:
            planners_mark_fictional(actor=self.admins.get(city.code), city=city, planners=planners)

    # --- Beijing: the existing roster, then direct commission (B19(1)) ------------------------------------------

    def beijing(self, city, missing: list[dict]) -> None:
        commissioned = {p["index"] for p in sorted(missing, key=lambda p: p["index"])[-BEIJING_COMMISSIONED:]} \
            if len(missing) > BEIJING_COMMISSIONED else set()
        roster = [p for p in missing if p["index"] not in commissioned]
        if roster:
            with clock.moved_to(self._day(ROSTER_DAYS_AGO)):
                done = self._try("名册导入（演示）", self._roster_import, city=city, people=roster)
            if done is not None:
                self.report.add("roster_imported", done.imported_rows)
        for n, person in enumerate(p for p in missing if p["index"] in commissioned):
            with clock.moved_to(self._day(COMMISSION_DAYS_AGO - 3 * n, hour=15)):
                if self._try(f"定向委托 {person['name']}", self._commission, city=city, person=person):
                    self.report.add("commissioned")

    def _admission_day(self, person) -> dt.date:
        # Admitted over the four years before the roster was entered (the city's earlier rounds).
        return self.today - dt.timedelta(days=ROSTER_DAYS_AGO + 60 + (person["index"] * 41) % 1400)

    def _roster_import(self, *, city, people):
        from rpms.registry.roster_import import roster_import_run, roster_import_upload
        from rpms.testing.builders import roster_upload

        rows = []
        for person in people:
            admitted = self._admission_day(person)
            rows.append({**person, "districts": [d.name for d in person["districts"]], "admitted_on": admitted.isoformat(),
                         "admission_evidence": f"京规自发〔{admitted.year}〕{10 + person['index']}号（演示，虚构）"})
        admin = self.admins["beijing"]
        imported = roster_import_upload(actor=admin, city=city,
                                        uploaded_file=roster_upload(rows, name="北京市责任规划师名册（演示）.xlsx"))
        if imported.error_rows:
            raise DomainError(f"名册有 {imported.error_rows} 行错误：{imported.errors[:3]}", code="demo_roster_invalid")
        return roster_import_run(actor=admin, roster_import=imported, only_valid=False)

    def _commission(self, *, city, person):
        from rpms.cities.eligibility import declaration_rules
        from rpms.registry.services import planner_commission

        return planner_commission(
            actor=self.admins["beijing"], city=city, reason=COMMISSION_REASON, name=person["name"],
            familiar_districts=person["districts"], employer=person["employer"], degree=person["degree"],
            major=person["major"], major_field=person["major_field"], title_level=person["title_level"],
            title_field=person["title_field"], registrations=person["registrations"],
            experience_years=person["experience_years"], specialties=person["specialties"], email=person["email"],
            id_number=person["id_number"], mobile=person["mobile"],
            # B18(2)(4): the commissioned person's declarations, as an applicant makes them
            declarations=[rule["code"] for rule in declaration_rules(city.policy)],
        )

    # --- Pingdingshan: open call, applications, review, notice, admission (P5(1)–(2)) ------------------------------

    def pingdingshan(self, city, missing: list[dict]) -> None:
        from rpms.recruitment.models import OpenCall

        admin = self.admins["pingdingshan"]
        rounds = OpenCall.objects.filter(city=city, title__startswith=CALL_TITLE.removesuffix("（演示）")).count()
        title = CALL_TITLE if not rounds else CALL_TITLE.replace("（演示）", f"（第 {rounds + 1} 批，演示）")
        with clock.moved_to(self._day(CALL_DAYS_AGO, hour=9)):
            call = self._try("发布公开征集（演示）", self._call, city=city, admin=admin, title=title)
        if call is None:
            return
        applications = []
        for n, person in enumerate(missing):
            with clock.moved_to(self._day(CALL_DAYS_AGO - 1 - n % 8, hour=10, minute=n)):
                application = self._try(f"{person['name']} 申请入库", self._apply, city=city, call=call, person=person)
            if application is not None:
                applications.append(application)
                self.report.add("applications")
        if not applications:
            return
        from rpms.recruitment.services import application_review, notice_close, notice_publish

        with clock.moved_to(self._day(REVIEW_DAYS_AGO, hour=15)):
            for application in applications:
                self._try(f"审核 {application.name}", application_review, actor=admin, application=application,
                          decision="approve", reason="专业背景、职称资历和实践经验符合入库条件（演示）。",
                          scores={"background": 88, "title": 85, "experience": 86, "local_familiarity": 80})
        with clock.moved_to(self._day(NOTICE_DAYS_AGO, hour=9)):
            notice = self._try("发布入库公示（演示）", notice_publish, actor=admin, call=call,
                               title=f"{title.removesuffix('（演示）')}拟入库人员公示（演示）")
        if notice is None:
            return
        with clock.moved_to(timezone.make_aware(dt.datetime.combine(notice.end + dt.timedelta(days=1), dt.time(10, 0)))):
            admitted = self._try("公示期满办理入库（演示）", notice_close, actor=admin, notice=notice)
        if admitted:
            self.report.add("admitted_after_notice", len(admitted))

    def _call(self, *, city, admin, title):
        from rpms.recruitment.services import call_create

        today = clock.today()
        return call_create(
            actor=admin, city=city, title=title, deadline=today + dt.timedelta(days=CALL_OPEN_DAYS),
            requirements="面向规划、建筑、风景园林、市政交通等专业技术人员公开征集责任规划师，建立资源库（演示数据）。",
        )

    def _apply(self, *, city, call, person):
        from rpms.accounts.services import user_create
        from rpms.recruitment.services import application_submit, declaration_rules, proof_add

        username = f"pds_applicant_{person['index']:02d}"
        user = User.objects.filter(username=username).first() or user_create(
            actor=None, username=username, password=None, role=Role.PLANNER, city=city, display_name=person["name"],
            email=person["email"],
        )
        application = application_submit(actor=user, call=call, data={
            "kind": "individual", "name": person["name"], "id_number": person["id_number"], "mobile": person["mobile"],
            "email": person["email"], "employer": person["employer"], "major": person["major"], "degree": person["degree"],
            "degree_field": person["major_field"], "title_level": person["title_level"], "title_field": person["title_field"],
            "registrations": person["registrations"], "experience_years": person["experience_years"],
            "specialties": person["specialties"], "districts": [d.code for d in person["districts"]],
            "declarations": [d["code"] for d in declaration_rules(city.policy)],
        })
        proof_add(actor=user, application=application, label="学历学位证书（演示）",
                  file=SimpleUploadedFile("学历学位证书（演示）.pdf", DEMO_PROOF_PDF, content_type="application/pdf"))
        return application
