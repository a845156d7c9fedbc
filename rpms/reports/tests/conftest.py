"""A small statistics year built from known rows, in either city.

`build_year(city, year, copies=1)` writes rows directly (planners and their dossier events, appointments
and terms, duty records, written opinions with their documents and responses, suggestions, graded
assessments, allowances and service fees) in two districts, around the year's edges (rows of the year
before and after, another city's rows) so that a wrong filter shows. `copies` repeats the whole set, for
the constant-query test. The tests then recount every figure from the raw rows with Python loops."""
import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from rpms.accounts.models import Role
from rpms.testing.builders import user_build as make_user

PASSWORD = "Test-pass-2026!"
_seq = itertools.count(1)


def aware(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def two_districts(city):
    """The first two districts (by their order) with at least two active units, and their units."""
    from rpms.geography.models import District, ResponsibilityUnit

    chosen = []
    for district in District.objects.filter(city=city).order_by("sort_order", "code"):
        units = list(ResponsibilityUnit.objects.filter(district=district, dissolved_at__isnull=True).order_by("id")[:3])
        if len(units) >= 2:
            chosen.append((district, units))
        if len(chosen) == 2:
            return chosen
    raise AssertionError("reference data has too few units")


def _planner(city, *, kind="individual", status="active", admitted_at=None, name="", route="admitted"):
    """A planner; one admitted has the dossier's admission event of its route at `admitted_at`, as the
    services write it (the pool figures read the dossier)."""
    from rpms.registry.models import Planner

    n = next(_seq)
    planner = Planner.objects.create(
        city=city, name=name or f"统计测试规划师{n:04d}", kind=kind, pool_status=status, admitted_at=admitted_at,
        is_fictional=True, employer="虚构规划设计研究院",
    )
    if admitted_at is not None:
        _event(planner, route, admitted_at)
    return planner


def _event(planner, kind, when, data=None):
    from rpms.registry.models import DossierEvent

    return DossierEvent.objects.create(planner=planner, kind=kind, occurred_at=when, summary=kind, data=data or {})


def _appointment(planner, unit, start, end, *, status="active", ended_on=None, term_no=1):
    from rpms.appointments.models import Appointment, AppointmentTerm

    appointment = Appointment.objects.create(
        city=unit.city, unit=unit, planner=planner, role="responsible_planner", start=start, end=end,
        status=status, ended_on=ended_on, term_no=term_no, party_a="虚构街道办事处",
    )
    AppointmentTerm.objects.create(appointment=appointment, term_no=1, kind="first", start=start,
                                   end=end if term_no == 1 else start.replace(year=start.year + 1) - dt.timedelta(days=1),
                                   years=1)
    return appointment


def _duty(appointment, day, hours, category, *, confirmed):
    from rpms.duties.models import DutyRecord

    return DutyRecord.objects.create(
        city=appointment.city, unit=appointment.unit, appointment=appointment, planner=appointment.planner,
        category=category, date=day, hours=Decimal(hours), place="社区活动室", description="统计测试履职",
        status="confirmed" if confirmed else "submitted", submitted_at=aware(day),
        confirmed_at=aware(day, 18) if confirmed else None,
    )


def _document(city, when):
    from rpms.documents.models import IssuedDocument

    n = next(_seq)
    return IssuedDocument.objects.create(
        city=city, kind="written_opinion", title="书面意见", number=f"STAT-{n:06d}", year=when.year, sequence=n,
        verification_code=f"V{n:011d}", content_hash="0" * 64, issued_at=when,
    )


def _opinion(appointment, author, when, *, status="issued", version=1, supersedes=None):
    from rpms.opinions.models import WrittenOpinion

    issued = status != "draft"
    return WrittenOpinion.objects.create(
        city=appointment.city, unit=appointment.unit, author=author, planner=appointment.planner, appointment=appointment,
        version=version, supersedes=supersedes, title="对方案的书面意见", subject="虚构更新项目", subject_kind="plan",
        status=status, content={"v": version} if issued else {}, content_hash="a" * 64 if issued else "",
        document=_document(appointment.city, when) if issued else None, issued_at=when if issued else None,
        superseded_at=when + dt.timedelta(days=3) if status == "superseded" else None,
    )


def _response(opinion, author, outcome, *, department=None, on=None):
    from rpms.opinions.models import OpinionResponse

    return OpinionResponse.objects.create(
        opinion=opinion, responder="department" if department else "design_unit", department=department,
        responder_name=department.name if department else "虚构设计院", outcome=outcome,
        responded_on=on or opinion.issued_at.date(), recorded_by=author,
    )


def _suggestion(unit, received_on, *, working_days=10, reply_on=None, hidden=False, status=None, forwarded_to=None):
    from rpms.suggestions.models import Suggestion
    from rpms.workdays.selectors import add_working_days

    n = next(_seq)
    due = add_working_days(received_on, working_days).end
    return Suggestion.objects.create(
        city=unit.city, unit=unit, district=unit.district, tracking_code=f"S{n:015d}", category="suggestion",
        content="统计测试意见建议", received_at=aware(received_on, 9), received_on=received_on, due_on=due,
        response_working_days=working_days, status=status or ("answered" if reply_on else "received"),
        replied_at=aware(reply_on, 16) if reply_on else None,
        hidden_at=aware(received_on, 12) if hidden else None, hidden_reason="广告" if hidden else "",
        department=forwarded_to, forwarded_at=aware(received_on, 11) if forwarded_to else None,
        closed_at=aware(received_on, 20) if status == "closed" else None,
    )


def _assessment(appointment, year, grade, label, *, graded=True):
    from rpms.assessments.models import Assessment

    return Assessment.objects.create(
        city=appointment.city, appointment=appointment, planner=appointment.planner, unit=appointment.unit,
        district=appointment.unit.district, year=year, period_start=dt.date(year - 1, 12, 1) + dt.timedelta(days=next(_seq) % 20),
        period_end=dt.date(year, 11, 30), assessing_body="district", status="graded" if graded else "open",
        opened_at=aware(dt.date(year, 11, 1)), grade=grade if graded else "", grade_label=label if graded else "",
        graded_at=aware(dt.date(year, 12, 5)) if graded else None,
    )


def _allowance(appointment, cycle_no, due_on, amount, *, paid_on=None):
    from rpms.finance.models import Allowance

    start = due_on - dt.timedelta(days=364)
    return Allowance.objects.create(
        city=appointment.city, appointment=appointment, planner=appointment.planner, district=appointment.unit.district,
        unit=appointment.unit, cycle_no=cycle_no, cycle_start=start, cycle_end=due_on, served_until=due_on,
        days_served=365, days_in_cycle=365, persons=1, rate_yuan=amount, amount_yuan=amount, basis="整周期",
        due_on=due_on, status="paid" if paid_on else "due", paid_on=paid_on, voucher_no="PZ-1" if paid_on else "",
    )


def _installment(appointment, seq, due_on, amount, *, settled_on=None, paid=0):
    from rpms.finance.models import FeeInstallment

    status = "paid" if settled_on else ("partial" if paid else "unpaid")
    return FeeInstallment.objects.create(
        city=appointment.city, appointment=appointment, district=appointment.unit.district, term_no=1, seq=seq,
        due_on=due_on, amount_yuan=amount, pay_by=due_on + dt.timedelta(days=7), status=status,
        paid_yuan=amount if settled_on else paid, settled_on=settled_on,
    )


def _payment(installment, paid_on, amount):
    from rpms.finance.models import FeePayment

    return FeePayment.objects.create(city=installment.city, installment=installment, paid_on=paid_on,
                                     amount_yuan=amount, voucher_no=f"FK-{next(_seq)}")


def build_year(city, year: int, *, copies: int = 1) -> dict:
    """Known rows of `year` in two districts of `city` (see the module docstring); returns the districts."""
    from rpms.geography.models import Department, ResponsibilityUnit
    from rpms.registry.models import DossierEventKind

    (district_a, units_a), (district_b, units_b) = two_districts(city)
    # The reference units were loaded today; for a past year they must already exist.
    ResponsibilityUnit.objects.filter(city=city).update(created_at=aware(dt.date(year - 1, 6, 1)))
    categories = [c["code"] for c in city.policy.duty_categories]
    grades = city.policy.grades
    grounds = [g["code"] for g in city.policy.removal_grounds]
    author = make_user(f"stat_author_{next(_seq)}", Role.PLANNER, city)
    department = Department.objects.get_or_create(city=city, district=district_a, name="虚构区住建委")[0]
    for copy in range(copies):
        # pool ---------------------------------------------------------------------------------------------------
        old = [_planner(city, admitted_at=aware(dt.date(year - 1, 3, 1)), route=DossierEventKind.IMPORTED) for _ in range(3)]
        team = _planner(city, kind="team", admitted_at=aware(dt.date(year - 1, 4, 1)))
        new = [_planner(city, admitted_at=aware(dt.date(year, 5, 1))) for _ in range(2)]
        commissioned = _planner(city, admitted_at=aware(dt.date(year, 7, 1)), route=DossierEventKind.COMMISSIONED)
        removed = _planner(city, status="removed", admitted_at=aware(dt.date(year - 1, 2, 1)))
        removed.removed_at, removed.removal_ground = aware(dt.date(year, 8, 20)), grounds[0]
        removed.save()
        _event(removed, DossierEventKind.REMOVED, removed.removed_at, {"ground": grounds[0]})
        removed_late = _planner(city, status="removed", admitted_at=aware(dt.date(year - 1, 2, 1)))
        removed_late.removed_at, removed_late.removal_ground = aware(dt.date(year + 1, 1, 3)), grounds[-1]
        removed_late.save()  # removed after the year: in the pool at year end
        _event(removed_late, DossierEventKind.REMOVED, removed_late.removed_at, {"ground": grounds[-1]})
        voluntary = _planner(city, status="removed", admitted_at=aware(dt.date(year - 1, 2, 1)))
        voluntary.removed_at, voluntary.removal_ground = aware(dt.date(year, 11, 2)), grounds[3]
        voluntary.save()
        _event(voluntary, DossierEventKind.REMOVED, voluntary.removed_at, {"ground": grounds[3]})
        _planner(city, status="candidate")

        # appointments -------------------------------------------------------------------------------------------
        a_long = _appointment(old[0], units_a[0], dt.date(year - 1, 3, 1), dt.date(year + 1, 2, 28))
        a_new = _appointment(new[0], units_a[1], dt.date(year, 3, 1), dt.date(year + 1, 2, 28))
        a_expired = _appointment(old[1], units_b[0], dt.date(year - 1, 7, 1), dt.date(year, 6, 30), status="ended")
        a_withdrawn = _appointment(old[2], units_b[1], dt.date(year - 1, 9, 1), dt.date(year, 8, 31),
                                   status="withdrawn", ended_on=dt.date(year, 5, 15))
        a_terminated = _appointment(team, units_a[0], dt.date(year, 2, 1), dt.date(year + 1, 1, 31),
                                    status="terminated", ended_on=dt.date(year, 10, 10))
        a_renewed = _appointment(new[1], units_b[0], dt.date(year - 1, 9, 1), dt.date(year + 1, 8, 31), term_no=2)
        from rpms.appointments.models import AppointmentTerm

        AppointmentTerm.objects.create(appointment=a_renewed, term_no=2, kind="renewal", start=dt.date(year, 9, 1),
                                       end=dt.date(year + 1, 8, 31), years=1)
        a_next = _appointment(commissioned, units_b[1], dt.date(year + 1, 2, 1), dt.date(year + 2, 1, 31))
        a_old = _appointment(old[1], units_a[1], dt.date(year - 2, 1, 1), dt.date(year - 1, 12, 31), status="ended")
        a_cancelled = _appointment(new[0], units_b[1], dt.date(year, 12, 1), dt.date(year + 1, 11, 30),
                                   status="terminated", ended_on=dt.date(year, 11, 30))  # ended before it started

        # duty records -------------------------------------------------------------------------------------------
        for index, (appointment, day, hours, confirmed) in enumerate([
            (a_long, dt.date(year, 1, 1), "3.5", True), (a_long, dt.date(year, 4, 8), "2.0", False),
            (a_new, dt.date(year, 6, 1), "4.0", True), (a_new, dt.date(year, 12, 31), "1.5", True),
            (a_expired, dt.date(year, 2, 10), "6.0", True), (a_withdrawn, dt.date(year, 3, 3), "2.5", False),
            (a_renewed, dt.date(year, 9, 9), "8.0", True), (a_terminated, dt.date(year, 5, 5), "1.0", True),
            (a_long, dt.date(year - 1, 12, 31), "5.0", True), (a_renewed, dt.date(year + 1, 1, 1), "7.0", True),
        ]):
            _duty(appointment, day, hours, categories[index % len(categories)], confirmed=confirmed)

        # opinions -----------------------------------------------------------------------------------------------
        o1 = _opinion(a_long, author, aware(dt.date(year, 3, 10)))
        _response(o1, author, "adopted")
        _response(o1, author, "not_adopted", department=department)
        o2 = _opinion(a_new, author, aware(dt.date(year, 6, 10)), status="superseded")
        _response(o2, author, "partly_adopted")
        o3 = _opinion(a_new, author, aware(dt.date(year, 6, 20)), version=2, supersedes=o2)
        _response(o3, author, "adopted")
        o4 = _opinion(a_renewed, author, aware(dt.date(year, 10, 1)))
        _response(o4, author, "not_adopted")
        _opinion(a_renewed, author, aware(dt.date(year, 11, 1)))  # no response yet
        _opinion(a_long, author, None, status="draft")
        _opinion(a_long, author, aware(dt.date(year - 1, 12, 30)))  # last year

        # suggestions --------------------------------------------------------------------------------------------
        _suggestion(units_a[0], dt.date(year, 3, 2), reply_on=dt.date(year, 3, 2))
        _suggestion(units_a[0], dt.date(year, 3, 6), reply_on=dt.date(year, 3, 12))
        _suggestion(units_a[1], dt.date(year, 9, 28), reply_on=dt.date(year, 10, 9))
        _suggestion(units_a[1], dt.date(year, 4, 1), reply_on=dt.date(year, 5, 20))  # late
        _suggestion(units_a[0], dt.date(year, 5, 6))  # unanswered, overdue
        _suggestion(units_a[0], dt.date(year, 5, 7), hidden=True)
        _suggestion(units_b[0], dt.date(year, 7, 1), reply_on=dt.date(year, 7, 3), forwarded_to=department)
        _suggestion(units_b[0], dt.date(year, 8, 1), status="closed")
        _suggestion(units_b[1], dt.date(year, 12, 30))  # pending on 10 January
        _suggestion(units_b[1], dt.date(year, 12, 28), reply_on=dt.date(year + 1, 1, 6))
        _suggestion(units_b[1], dt.date(year - 1, 12, 30), reply_on=dt.date(year, 1, 4))  # last year

        # assessments --------------------------------------------------------------------------------------------
        _assessment(a_long, year, grades[0]["code"], grades[0]["label"])
        _assessment(a_new, year, grades[1]["code"], grades[1]["label"])
        _assessment(a_expired, year, grades[-1]["code"], grades[-1]["label"])
        _assessment(a_renewed, year, grades[0]["code"], grades[0]["label"])
        _assessment(a_withdrawn, year, "", "", graded=False)
        _assessment(a_terminated, year - 1, grades[1]["code"], grades[1]["label"])

        # money --------------------------------------------------------------------------------------------------
        _allowance(a_long, 1 + 10 * copy, dt.date(year, 2, 28), 5000, paid_on=dt.date(year, 3, 20))
        _allowance(a_expired, 1 + 10 * copy, dt.date(year, 6, 30), 5000)
        _allowance(a_renewed, 1 + 10 * copy, dt.date(year, 8, 31), 4110, paid_on=dt.date(year + 1, 1, 5))
        _allowance(a_withdrawn, 1 + 10 * copy, dt.date(year - 1, 8, 31), 5000, paid_on=dt.date(year, 1, 10))
        i1 = _installment(a_long, 1 + 10 * copy, dt.date(year, 3, 1), 30000, settled_on=dt.date(year, 3, 5))
        _payment(i1, dt.date(year, 3, 5), 30000)
        i2 = _installment(a_long, 2 + 10 * copy, dt.date(year, 9, 1), 30000, paid=10000)
        _payment(i2, dt.date(year, 10, 1), 10000)
        i3 = _installment(a_new, 1 + 10 * copy, dt.date(year, 4, 1), 20000, settled_on=dt.date(year, 6, 1))
        _payment(i3, dt.date(year, 6, 1), 20000)
        _installment(a_next, 1 + 10 * copy, dt.date(year + 1, 3, 1), 9000)
        _ = a_old, a_cancelled
    return {"districts": [district_a, district_b], "department": department}


@pytest.fixture
def stats_year():
    """The year the statistics tests look at (last year: complete, so figures do not depend on today)."""
    return timezone.localdate().year - 1


@pytest.fixture
def stats_today(stats_year):
    return dt.date(stats_year + 1, 1, 10)
