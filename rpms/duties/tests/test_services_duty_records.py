"""Duty records: who may record where, the city's categories, hours, dates, focus, confirmation and the lock."""
import datetime as dt
from decimal import Decimal

import pytest

from rpms.core.errors import Conflict, DomainError, Forbidden
from rpms.core.models import ActionLog
from rpms.duties import services
from rpms.duties.models import DutyRecord, DutyStatus, LockedRecordError

from .conftest import appoint, make_planner, png_bytes, upload

pytestmark = pytest.mark.django_db


def test_a_beijing_planner_records_a_duty_in_its_unit_with_the_article_b11(bj_planner, bj_unit, record_factory):
    record = record_factory(bj_planner, bj_unit, category="supervision_feedback", hours="3",
                            focus=["老旧小区综合整治", "公共空间改造"])
    assert record.status == DutyStatus.SUBMITTED
    assert record.planner == bj_planner and record.unit == bj_unit
    assert record.hours == Decimal("3.0")
    assert record.focus == ["老旧小区综合整治", "公共空间改造"]
    row = ActionLog.objects.get(action="duties.duty_record_create", object_id=str(record.pk))
    assert row.article == "B11"
    assert row.city_code == "beijing"


def test_a_pingdingshan_planner_records_under_p3_with_its_four_categories(pds_planner, pds_unit, record_factory, pingdingshan):
    codes = [c["code"] for c in pingdingshan.policy.duty_categories]
    assert len(codes) == 4
    record = record_factory(pds_planner, pds_unit, category="technical_review")
    assert record.category_label() == "技术审查指导"
    assert ActionLog.objects.get(action="duties.duty_record_create", object_id=str(record.pk)).article == "P3"
    # A Beijing category is not one of Pingdingshan's.
    with pytest.raises(DomainError) as exc:
        record_factory(pds_planner, pds_unit, category="research")
    assert exc.value.code == "invalid_category"


def test_a_planner_cannot_record_for_a_unit_it_does_not_serve(bj_planner, bj_other_unit, record_factory):
    with pytest.raises(Forbidden) as exc:
        record_factory(bj_planner, bj_other_unit)
    assert exc.value.status == 403
    assert "未受聘服务" in exc.value.message
    assert not DutyRecord.objects.exists()
    assert not ActionLog.objects.filter(action="duties.duty_record_create").exists()


def test_a_planner_cannot_record_a_day_outside_its_appointment(beijing, bj_unit, record_factory, today):
    planner = make_planner(beijing)
    appoint(planner, bj_unit, start=today - dt.timedelta(days=10), end=today + dt.timedelta(days=100))
    record_factory(planner, bj_unit, date=today - dt.timedelta(days=10))  # first day of service: fine
    with pytest.raises(Forbidden):
        record_factory(planner, bj_unit, date=today - dt.timedelta(days=11))


def test_a_pingdingshan_planner_cannot_record_in_a_beijing_unit(pds_planner, bj_unit, record_factory):
    with pytest.raises(Forbidden):
        record_factory(pds_planner, bj_unit, category="research")


def test_other_roles_cannot_record_duties(street_office, bj_unit, bj_planner):
    with pytest.raises(Forbidden):
        services.duty_record_create(actor=street_office, unit=bj_unit, category="research", date=dt.date.today(),
                                    hours="1", place="街道", description="x")


@pytest.mark.parametrize("hours", ["0", "-1", "24.5", "25", "abc", "1.25"])
def test_hours_must_be_positive_at_most_24_with_one_decimal(bj_planner, bj_unit, record_factory, hours):
    with pytest.raises(DomainError) as exc:
        record_factory(bj_planner, bj_unit, hours=hours)
    assert exc.value.code == "invalid_hours"


def test_exactly_24_hours_is_accepted_but_not_more_on_the_same_day(bj_planner, bj_unit, record_factory, today):
    day = today - dt.timedelta(days=2)
    record_factory(bj_planner, bj_unit, date=day, hours="20")
    with pytest.raises(DomainError) as exc:
        record_factory(bj_planner, bj_unit, date=day, hours="4.5")
    assert exc.value.code == "daily_hours_exceeded"
    assert record_factory(bj_planner, bj_unit, date=day, hours="4").hours == Decimal("4.0")


def test_a_record_cannot_be_dated_in_the_future(bj_planner, bj_unit, record_factory, today):
    with pytest.raises(DomainError) as exc:
        record_factory(bj_planner, bj_unit, date=today + dt.timedelta(days=1))
    assert exc.value.code == "date_in_future"
    assert record_factory(bj_planner, bj_unit, date=today).date == today


def test_the_database_refuses_hours_out_of_range_even_without_the_service(bj_planner, bj_unit, record_factory):
    from django.db import IntegrityError, transaction

    record = record_factory(bj_planner, bj_unit)
    with pytest.raises(IntegrityError), transaction.atomic():
        DutyRecord.objects.filter(pk=record.pk).update(hours=Decimal(30))


def test_focus_items_must_come_from_the_units_zone_type_list(bj_planner, bj_unit, record_factory):
    options = services.unit_focus_options(bj_unit)
    assert [o["code"] for o in options] == ["central"]
    assert "老旧小区综合整治" in options[0]["focus"]
    with pytest.raises(DomainError) as exc:
        record_factory(bj_planner, bj_unit, focus=["老城整体保护"])  # a core-zone focus, not central
    assert exc.value.code == "invalid_focus"


def test_pingdingshan_units_have_no_zone_type_focus(pds_planner, pds_unit, record_factory):
    assert services.unit_focus_options(pds_unit) == []
    with pytest.raises(DomainError):
        record_factory(pds_planner, pds_unit, category="consulting", focus=["老旧小区综合整治"])


def test_evidence_photos_and_files_are_stored_with_the_record(bj_planner, bj_unit, record_factory, settings):
    record = record_factory(bj_planner, bj_unit, evidence=[upload("现场.png", png_bytes(), "image/png"), upload()],
                            evidence_labels=["现场照片", "会议纪要"])
    evidence = list(record.evidence.order_by("id"))
    assert [e.kind for e in evidence] == ["png", "pdf"]
    assert [e.label for e in evidence] == ["现场照片", "会议纪要"]
    assert (settings.PRIVATE_MEDIA_ROOT / evidence[1].path).read_bytes().startswith(b"%PDF")


def test_a_disguised_evidence_file_refuses_the_whole_record(bj_planner, bj_unit, record_factory, settings):
    with pytest.raises(DomainError) as exc:
        record_factory(bj_planner, bj_unit, evidence=[upload(), upload("脚本.pdf", b"MZ\x90\x00 not a pdf")])
    assert exc.value.code == "upload_type_not_allowed"
    assert not DutyRecord.objects.exists()
    root = settings.PRIVATE_MEDIA_ROOT
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def test_the_hiring_entity_confirms_and_the_record_is_then_locked(bj_planner, bj_unit, street_office, record_factory):
    record = record_factory(bj_planner, bj_unit)
    record = services.duty_record_confirm(actor=street_office, record=record)
    assert record.status == DutyStatus.CONFIRMED and record.confirmed_by == street_office
    assert ActionLog.objects.get(action="duties.duty_record_confirm", object_id=str(record.pk)).article == "B11"
    with pytest.raises(Conflict) as exc:
        services.duty_record_update(actor=bj_planner.user, record=record, hours="1")
    assert exc.value.code == "duty_record_locked"
    with pytest.raises(Conflict):
        services.duty_record_delete(actor=bj_planner.user, record=record)
    with pytest.raises(Conflict):
        services.duty_evidence_add(actor=bj_planner.user, record=record, file=upload())
    record.refresh_from_db()
    assert record.hours == Decimal("2.5")
    assert DutyRecord.objects.filter(pk=record.pk).exists()


def test_the_model_itself_refuses_to_change_or_delete_a_confirmed_record(bj_planner, bj_unit, street_office, record_factory):
    record = services.duty_record_confirm(actor=street_office, record=record_factory(bj_planner, bj_unit))
    record.hours = Decimal(1)
    with pytest.raises(LockedRecordError):
        record.save()
    with pytest.raises(LockedRecordError):
        record.delete()
    with pytest.raises(LockedRecordError):
        DutyRecord.objects.filter(pk=record.pk).delete()
    with pytest.raises(LockedRecordError):
        DutyRecord.objects.filter(pk=record.pk).update(place="别处")
    assert DutyRecord.objects.get(pk=record.pk).hours == Decimal("2.5")


def test_the_district_officer_may_confirm_but_another_streets_office_may_not(
    bj_planner, bj_unit, district_haidian, district_chaoyang, other_entity, record_factory
):
    record = record_factory(bj_planner, bj_unit)
    for outsider in (other_entity, district_chaoyang, bj_planner.user):
        with pytest.raises(Forbidden):
            services.duty_record_confirm(actor=outsider, record=record)
    assert services.duty_record_confirm(actor=district_haidian, record=record).status == DutyStatus.CONFIRMED


def test_a_query_goes_back_to_the_planner_who_answers_edits_and_resubmits(bj_planner, bj_unit, street_office, record_factory):
    record = record_factory(bj_planner, bj_unit, hours="8")
    services.duty_record_query(actor=street_office, record=record, question="当天会议只开了半天，时长是否有误？")
    record.refresh_from_db()
    assert record.status == DutyStatus.QUERIED
    with pytest.raises(Conflict) as exc:
        services.duty_record_confirm(actor=street_office, record=record)
    assert exc.value.code == "duty_record_queried"
    record = services.duty_record_answer(actor=bj_planner.user, record=record, answer="已更正为 4 小时。",
                                         changes={"hours": "4"})
    assert record.status == DutyStatus.SUBMITTED and record.hours == Decimal("4.0")
    query = record.queries.get()
    assert query.answer == "已更正为 4 小时。" and query.answered_by == bj_planner.user
    assert services.duty_record_confirm(actor=street_office, record=record).status == DutyStatus.CONFIRMED
    actions = list(ActionLog.objects.filter(object_id=str(record.pk), action__startswith="duties.duty_record")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["duties.duty_record_create", "duties.duty_record_query", "duties.duty_record_answer",
                       "duties.duty_record_confirm"]


def test_a_query_needs_a_question(bj_planner, bj_unit, street_office, record_factory):
    record = record_factory(bj_planner, bj_unit)
    with pytest.raises(DomainError):
        services.duty_record_query(actor=street_office, record=record, question="  ")
    record.refresh_from_db()
    assert record.status == DutyStatus.SUBMITTED


def test_only_the_author_edits_or_deletes_an_unconfirmed_record(bj_planner, bj_unit, bj_other, street_office, record_factory):
    record = record_factory(bj_planner, bj_unit)
    for outsider in (bj_other.user, street_office):
        with pytest.raises(Forbidden):
            services.duty_record_update(actor=outsider, record=record, place="别处")
        with pytest.raises(Forbidden):
            services.duty_record_delete(actor=outsider, record=record)
    record = services.duty_record_update(actor=bj_planner.user, record=record, place="街道会议室")
    assert record.place == "街道会议室"
    services.duty_record_delete(actor=bj_planner.user, record=record)
    assert not DutyRecord.objects.filter(pk=record.pk).exists()
    assert ActionLog.objects.filter(action="duties.duty_record_delete", object_id=str(record.pk)).count() == 1


def test_moving_a_record_to_a_day_before_the_appointment_is_refused(beijing, bj_unit, record_factory, today):
    planner = make_planner(beijing)
    appoint(planner, bj_unit, start=today - dt.timedelta(days=5))
    record = record_factory(planner, bj_unit, date=today - dt.timedelta(days=2))
    with pytest.raises(Forbidden):
        services.duty_record_update(actor=planner.user, record=record, date=today - dt.timedelta(days=30))
    record.refresh_from_db()
    assert record.date == today - dt.timedelta(days=2)


def test_every_duty_act_writes_exactly_one_audit_row(bj_planner, bj_unit, street_office, record_factory):
    before = ActionLog.objects.count()
    record = record_factory(bj_planner, bj_unit)
    services.duty_evidence_add(actor=bj_planner.user, record=record, file=upload())
    services.duty_record_update(actor=bj_planner.user, record=record, hours="3")
    services.duty_record_confirm(actor=street_office, record=record)
    assert ActionLog.objects.count() - before == 4
    assert set(ActionLog.objects.filter(action__startswith="duties.").values_list("article", flat=True)) == {"B11"}
