"""Builders that make records through the real services, with traits per state.

`appointment_build` is the one way tests make an appointment: it takes the path the city's policy
prescribes —
- local selection (Beijing, B2, B19(1)(5)): the unit's hiring entity proposes, the district officer
  of the unit's district approves (rpms.appointments.proposals);
- city dispatch (Pingdingshan, P6(2)): the city administrator appoints (services.appointment_create);
and, with `filed=True`, the signer uploads the signed contract (PDF) and the filing body files it
(Pingdingshan: the bureau's submission files it at once, P6(3)).

The acting users default to existing ones (the first hiring entity of the unit, the first officer of
the district, the first administrator of the city — e.g. the root conftest personas) and are created
only when there is none, so tests that count users or recipients see no strangers."""
from __future__ import annotations

import datetime as dt
import itertools
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from rpms.core.crypto import blind_index
from rpms.testing.pdfs import tiny_pdf

ROLE = "responsible_planner"
PASSWORD = "Test-pass-2026!"
_seq = itertools.count(1)

# A tiny but complete PDF (rpms.core.uploads parses it with pypdf: pages, cross-reference table, no script).
SIGNED_PDF = tiny_pdf()


def signed_pdf(name: str = "signed-contract.pdf", content: bytes = SIGNED_PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _today() -> dt.date:
    from rpms.core import clock

    return clock.today()


def _username(prefix: str) -> str:
    return f"{prefix}_{next(_seq)}_{uuid.uuid4().hex[:6]}"


def user_build(username, role, city=None, districts=(), subdistricts=(), display_name="", **extra):
    """A user with the tests' password (the root conftest's personas and every app's tests make theirs here)."""
    from rpms.accounts.models import User

    user = User.objects.create_user(username=username, password=PASSWORD, role=role, city=city,
                                    display_name=display_name or username, **extra)
    if districts:
        user.districts.set(districts)
    if subdistricts:
        user.subdistricts.set(subdistricts)
    return user


def planner_build(city, name=None, *, name_format: str = "测试规划师{n:03d}", username_prefix: str = "b_planner",
                  pool_status: str = "active", with_user: bool = True, kind: str = "individual", members=(),
                  employer: str = "虚构规划设计研究院", id_number: str = "", mobile: str = "",
                  email: str = "", account_named_after_planner: bool = True, **fields):
    """A fictional pool member of `city` (named by `name_format` unless `name` is given) with its own planner
    account (`<username_prefix>_<n>`, e-mail `email`) unless `with_user=False`; `id_number`/`mobile` may hold
    `{n}` (e.g. "139{n:08d}") to number them; `members` are team members (TeamMember fields)."""
    from rpms.accounts.models import Role
    from rpms.registry.models import Planner, TeamMember

    n = next(_seq)
    name = name or name_format.format(n=n)
    username = f"{username_prefix}_{n}"
    user = (user_build(username, Role.PLANNER, city, display_name=name if account_named_after_planner else username,
                       email=email) if with_user else None)
    planner = Planner.objects.create(
        city=city, name=name, user=user, kind=kind, pool_status=pool_status, is_fictional=True, employer=employer,
        id_number=id_number.format(n=n), mobile=mobile.format(n=n), **fields,
    )
    for i, member in enumerate(members):
        TeamMember.objects.create(planner=planner, sort_order=i, **member)
    return planner


def unit_of(city, subdistrict_code: str):
    """The current unit of `city` holding the subdistrict `subdistrict_code`."""
    from rpms.geography.models import ResponsibilityUnit

    return (
        ResponsibilityUnit.objects.select_related("district", "city__policy")
        .get(city=city, dissolved_at__isnull=True, memberships__subdistrict__code=subdistrict_code,
             memberships__left_at__isnull=True)
    )


def units_of(district, count: int, offset: int = 0) -> list:
    """`count` current units of `district` in id order, from `offset`."""
    from rpms.geography.models import ResponsibilityUnit

    return list(
        ResponsibilityUnit.objects.filter(district=district, dissolved_at__isnull=True)
        .select_related("district", "city__policy").order_by("id")[offset:offset + count]
    )


def entity_user_for(unit):
    """A hiring-entity user of one of the unit's subdistricts (an existing one first)."""
    from rpms.accounts.models import Role, User

    subdistricts = [s.pk for s in unit.current_subdistricts]
    user = (User.objects.filter(role=Role.HIRING_ENTITY, city=unit.city, subdistricts__in=subdistricts)
            .order_by("id").first())
    if user is None:
        user = User.objects.create_user(username=_username("b_entity"), password=PASSWORD, role=Role.HIRING_ENTITY,
                                        city=unit.city, display_name=f"{unit.name}聘任主体（测试）")
        user.subdistricts.set(subdistricts[:1])
    return user


def district_user_for(unit):
    """A district officer of the unit's district (an existing one first)."""
    from rpms.accounts.models import Role, User

    user = (User.objects.filter(role=Role.DISTRICT_OFFICER, city=unit.city, districts=unit.district)
            .order_by("id").first())
    if user is None:
        user = User.objects.create_user(username=_username("b_district"), password=PASSWORD,
                                        role=Role.DISTRICT_OFFICER, city=unit.city,
                                        display_name=f"{unit.district.name}工作专班（测试）")
        user.districts.set([unit.district])
    return user


def city_admin_for(city):
    """A city administrator of `city` (an existing one first)."""
    from rpms.accounts.models import Role, User

    user = User.objects.filter(role=Role.CITY_ADMIN, city=city).order_by("id").first()
    if user is None:
        user = User.objects.create_user(username=_username("b_admin"), password=PASSWORD, role=Role.CITY_ADMIN,
                                        city=city, display_name=f"{city.name}市级管理员（测试）")
    return user


def _load_unit(unit):
    from rpms.geography.models import ResponsibilityUnit

    return ResponsibilityUnit.objects.select_related("district", "city__policy").get(pk=getattr(unit, "pk", unit))


def signer_for(appointment):
    from rpms.cities.models import ContractSigner

    if appointment.city.policy.contract_signer == ContractSigner.HIRING_ENTITY:
        return entity_user_for(appointment.unit)
    return city_admin_for(appointment.city)


def appointment_build(*, unit, planner, role: str = ROLE, start: dt.date | None = None, fee_yuan=None,
                      fee_note: str = "", service_focus: str = "", actor=None, entity_user=None,
                      district_user=None, filed: bool = False, signer=None, filer=None,
                      signed_on: dt.date | None = None, withdrawal_notice_working_days=None):
    """An appointment of `planner` to `unit` in `role`, made the way the city's policy prescribes.

    - local selection: `entity_user` proposes, `district_user` approves (defaults: see module doc; a
      district officer passed as `actor` approves; any other `actor` is not used: nobody appoints alone);
    - city dispatch: `actor` (default: the city's administrator) appoints;
    - `filed=True`: `signer` (default: the policy's contract signer) submits a signed PDF on `signed_on`
      (default: the start, or today if that lies ahead) with the fee, and `filer` (default: the district
      officer) files it where the policy has a filing body;
    - `withdrawal_notice_working_days`: the contract's own withdrawal-notice clause (B25, where the policy
      allows one), agreed at appointing in city dispatch, set by the contract signer after approval in
      local selection.
    Returns the Appointment, fresh from the database."""
    from rpms.appointments import proposals, services, signing
    from rpms.appointments.models import Appointment

    from rpms.accounts.models import Role

    unit = _load_unit(unit)
    city = unit.city
    start = start or _today()
    if proposals.is_local_selection(city):
        if district_user is None and getattr(actor, "role", None) == Role.DISTRICT_OFFICER:
            district_user = actor  # the officer named as the actor approves
        entity_user = entity_user or entity_user_for(unit)
        district_user = district_user or district_user_for(unit)
        proposal = proposals.proposal_submit(
            actor=entity_user, planner=planner, unit=unit, role=role, start=start, fee_yuan=fee_yuan,
            fee_note=fee_note, service_focus=service_focus,
        )
        appointment = proposals.proposal_approve(actor=district_user, proposal=proposal)
        if withdrawal_notice_working_days is not None:
            appointment = services.appointment_withdrawal_notice_set(
                actor=signer_for(appointment), appointment=appointment, working_days=withdrawal_notice_working_days,
            )
    else:
        appointment = services.appointment_create(
            actor=actor or city_admin_for(city), planner=planner, unit=unit, role=role, start=start,
            fee_yuan=fee_yuan, fee_note=fee_note, service_focus=service_focus,
            withdrawal_notice_working_days=withdrawal_notice_working_days,
        )
    if filed:
        appointment = appointment_sign(appointment=appointment, signer=signer, signed_on=signed_on,
                                       fee_yuan=fee_yuan)
        if not signing.files_on_submission(city):
            services.appointment_file(actor=filer or district_user or district_user_for(unit), appointment=appointment)
    return Appointment.objects.select_related("city__policy", "unit__district", "planner").get(pk=appointment.pk)


def appoint(actor, planner, unit, start: dt.date | None = None, *, role: str = ROLE, fee_yuan=None, **traits):
    """`appoint(actor, planner, unit, start=today)`: the positional shorthand the apps' tests use for
    `appointment_build` (Beijing: the unit's entity proposes and the district approves — a district officer
    passed as `actor` approves; elsewhere `actor` appoints). `traits` are appointment_build's other options.
    The root conftest's `appoint` fixture returns it."""
    return appointment_build(unit=unit, planner=planner, actor=actor, start=start, role=role, fee_yuan=fee_yuan,
                             **traits)


def appointment_sign(*, appointment, signer=None, signed_on: dt.date | None = None, fee_yuan=None, file=None):
    """The signer submits the signed contract (Pingdingshan: filed at once). Returns the appointment."""
    from rpms.appointments import signing
    from rpms.appointments.models import Appointment

    signed_on = signed_on or min(appointment.start, _today())
    fee = fee_yuan if fee_yuan is not None else (appointment.fee_yuan if appointment.fee_yuan is not None else 0)
    signing.signed_contract_submit(actor=signer or signer_for(appointment), appointment=appointment,
                                   file=file or signed_pdf(), signed_on=signed_on, fee_yuan=fee)
    return Appointment.objects.get(pk=appointment.pk)


# --- the pool: admission by the city's own paths ------------------------------------------------------------------

PROOF_PDF = SIGNED_PDF


def person_data(city, n: int, *, name: str = "", **overrides) -> dict:
    """Application-style data of a fictional person `n` meeting both cities' eligibility rules (B18, P4): a
    senior planner with a registration, ten years' experience, every declaration made."""
    from rpms.core.identity import id_number_checksum
    from rpms.recruitment.services import declaration_rules

    first17 = f"{'110108' if city.code == 'beijing' else '410402'}{1975 + n % 20}0{1 + n % 9}1{n % 10}{n % 1000:03d}"
    data = {
        "kind": "individual", "name": name or f"测试人员{n:03d}（虚构）", "id_number": first17 + id_number_checksum(first17),
        "mobile": f"1380013{n % 10000:04d}", "email": f"person{n}@example.invalid", "employer": "示例规划设计研究院（虚构）",
        "major": "城乡规划", "degree": "master", "degree_field": "urban_rural_planning", "title_level": "senior",
        "title_field": "urban_rural_planning", "registrations": ["registered_planner"], "experience_years": 10,
        "specialties": ["urban_rural_planning"], "districts": [],
        "declarations": [d["code"] for d in declaration_rules(city.policy)],
    }
    data.update(overrides)
    return data


def planner_login(planner):
    """The planner's login account (role planner), linked through registry.planner_link_user if missing."""
    from rpms.accounts.models import Role, User
    from rpms.registry.services import planner_link_user

    if planner.user_id:
        return planner.user
    user = User.objects.create_user(username=_username("b_planner"), password=PASSWORD, role=Role.PLANNER,
                                    city=planner.city, display_name=planner.name)
    planner_link_user(actor=None, planner=planner, user=user)
    planner.refresh_from_db()
    return user


def roster_upload(rows: list[dict], *, name: str = "名册.xlsx") -> SimpleUploadedFile:
    """An .xlsx roster (名册导入 template columns) with `rows` — dicts keyed by the column keys of
    rpms.registry.roster_import.COLUMNS; lists are joined with "、"."""
    import io

    from openpyxl import Workbook

    from rpms.registry.roster_import import COLUMNS, SHEET_TITLE

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    sheet.append([c.header for c in COLUMNS])
    for row in rows:
        sheet.append(["、".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v if v is not None else "")
                      for v in (row.get(c.key, "") for c in COLUMNS)])
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def pool_import_roster(*, city, people: list[dict], admitted_on: list[dt.date], admin=None, evidence: str = "测试规划委〔{year}〕{n}号"):
    """名册导入 of existing members (`people`: person_data dicts), each admitted on its `admitted_on` day with its
    evidence (issue #12 5d). Runs on today's clock (move it with rpms.core.clock.moved_to). Returns the
    planners, in the order of `people`."""
    from rpms.registry.models import Planner
    from rpms.registry.roster_import import roster_import_run, roster_import_upload

    admin = admin or city_admin_for(city)
    rows = []
    for n, (person, day) in enumerate(zip(people, admitted_on, strict=True)):
        rows.append({**person, "major_field": person["degree_field"], "admitted_on": day.isoformat(),
                     "districts": [d.name for d in city.districts.filter(code__in=person["districts"])],
                     "admission_evidence": evidence.format(year=day.year, n=n + 1)})
    imported = roster_import_upload(actor=admin, city=city, uploaded_file=roster_upload(rows))
    assert imported.error_rows == 0, imported.errors
    roster_import_run(actor=admin, roster_import=imported, only_valid=False)
    found = {p.id_number: p for p in Planner.objects.filter(
        city=city, id_number_index__in=[blind_index(p["id_number"], kind="id_number") for p in people])}
    return [found[p["id_number"]] for p in people]


def pool_commission(*, city, person: dict, admin=None, reason: str = "测试：定向委托入库", members=()):
    """定向委托 (B19(1)) of `person` (person_data; kind "team" with `members` for a team), today."""
    from rpms.registry.services import planner_commission

    fields = {k: person[k] for k in ("id_number", "mobile", "email", "employer", "degree", "major", "title_level",
                                     "title_field", "registrations", "experience_years", "specialties")}
    if person.get("kind") == "team":
        fields.update(kind="team", leader_name=person["name"])
    return planner_commission(
        actor=admin or city_admin_for(city), city=city, reason=reason, name=person.get("team_name") or person["name"],
        familiar_districts=list(city.districts.filter(code__in=person["districts"])), members=members,
        major_field=person["degree_field"], declarations=person.get("declarations", ()), **fields,
    )


def pool_admit_by_notice(*, city, people: list[dict], start: dt.date, admin=None, title: str = "") -> list:
    """P5(1)-(2): a call published on `start`, each person registers and applies the next day (with a proof),
    the city administrator reviews two days later and publishes the notice the day after for the policy's
    working days, and closes it the day after it ends — every step on its own day (rpms.core.clock).
    Returns the admitted planners in the order of `people`; the admission is the day after the notice ends."""
    from rpms.accounts.models import Role
    from rpms.accounts.services import user_create
    from rpms.core import clock
    from rpms.recruitment import services as recruitment

    admin = admin or city_admin_for(city)
    with clock.moved_to(start, hour=9):
        call = recruitment.call_create(actor=admin, city=city, title=title or f"测试公开征集 {next(_seq)}",
                                       deadline=start + dt.timedelta(days=10))
    applications = []
    with clock.moved_to(start + dt.timedelta(days=1)):
        for person in people:
            user = user_create(actor=None, username=_username("b_applicant"), password=None, role=Role.PLANNER,
                               city=city, display_name=person["name"])
            application = recruitment.application_submit(actor=user, call=call, data=person)
            recruitment.proof_add(actor=user, application=application, file=signed_pdf("学历证书.pdf", PROOF_PDF),
                                  label="学历证书")
            applications.append(application)
    with clock.moved_to(start + dt.timedelta(days=3), hour=15):
        for application in applications:
            recruitment.application_review(actor=admin, application=application, decision="approve",
                                           scores={"background": 90, "title": 90, "experience": 90,
                                                   "local_familiarity": 90})
    with clock.moved_to(start + dt.timedelta(days=4), hour=9):
        notice = recruitment.notice_publish(actor=admin, call=call)
    with clock.moved_to(notice.end + dt.timedelta(days=1)):
        admitted = recruitment.notice_close(actor=admin, notice=notice)
    by_name = {p.name: p for p in admitted}
    return [by_name[p["name"]] for p in people]


def review_inputs_build(*, assessment, planner_user=None, entity_user=None, report: str = "本年度开展调研走访、方案审查和公众参与工作。",
                        feedback: str = "服务认真，响应及时。"):
    """The inputs a review waits for (issue #12, P6(4)/B20), given through the services: the planner's
    述职 (as the planner's own user) and the hiring entity's 属地反馈 (the unit's first entity user, created
    only if there is none) — each only when the city's criteria name it and it is not in yet. The clock
    is not moved: grading also needs the review window (policy `review_window_days`). Returns the
    assessment, reloaded."""
    from rpms.assessments import services
    from rpms.assessments.models import Assessment

    assessment = Assessment.objects.select_related("city__policy", "planner__user", "unit").get(pk=assessment.pk)
    wanted = assessment.city.policy.review_inputs()
    if "self_report" in wanted and assessment.self_reported_at is None:
        services.assessment_self_report(actor=planner_user or assessment.planner.user, assessment=assessment, text=report)
    if "entity_feedback" in wanted and assessment.entity_feedback_at is None:
        services.assessment_feedback_submit(actor=entity_user or entity_user_for(assessment.unit), assessment=assessment,
                                            text=feedback)
    return Assessment.objects.get(pk=assessment.pk)
