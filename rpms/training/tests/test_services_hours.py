"""Continuing-education hours (B23): credited per year when confirmed; read by others in one query."""
import datetime as dt
from decimal import Decimal

import pytest

from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.registry.models import DossierEvent
from rpms.training import selectors, services
from rpms.training.models import RecordStatus, TrainingRecord

from .conftest import PDF_BYTES, make_planner, upload


def _declare(planner, *, date, hours, title="社区微更新现场服务", source="practice"):
    return services.training_record_create(actor=planner.user, planner=planner, source=source, title=title,
                                           date=date, hours=hours)


def test_a_planners_declaration_counts_only_once_the_city_confirms_it(bj_planner, city_admin):
    record = _declare(bj_planner, date="2025-05-10", hours="6")
    assert record.status == RecordStatus.PENDING
    assert selectors.training_hours(bj_planner, 2025) == Decimal(0)
    services.training_record_confirm(actor=city_admin, record=record)
    assert selectors.training_hours(bj_planner, 2025) == Decimal("6.0")
    event = DossierEvent.objects.get(planner=bj_planner, kind="training")
    assert event.article == "B23" and "6" in event.summary
    confirm = ActionLog.objects.get(action="training.record_confirm")
    assert confirm.article == "B23" and confirm.city_code == "beijing"


def test_hours_are_credited_per_year_and_rejected_or_pending_ones_do_not_count(bj_planner, city_admin):
    for date, hours in (("2025-03-01", "2.5"), ("2025-12-31", "4"), ("2026-01-01", "1.5")):
        services.training_record_confirm(actor=city_admin, record=_declare(bj_planner, date=date, hours=hours))
    _declare(bj_planner, date="2025-06-01", hours="10")  # pending
    rejected = _declare(bj_planner, date="2025-07-01", hours="20")
    services.training_record_reject(actor=city_admin, record=rejected, reason="缺少证明材料")
    assert selectors.training_hours(bj_planner, 2025) == Decimal("6.5")
    assert selectors.training_hours(bj_planner, 2026) == Decimal("1.5")
    assert selectors.training_hours(bj_planner, 2024) == Decimal(0)
    by_year = selectors.training_hours_by_year(bj_planner)
    assert [(y["year"], y["hours"], y["records"]) for y in by_year] == [(2026, Decimal("1.5"), 1), (2025, Decimal("6.5"), 2)]


def test_hours_by_planner_are_summed_in_one_query(bj_planner, bj_other_planner, city_admin, beijing,
                                                  django_assert_num_queries):
    idle = make_planner(beijing)
    for planner, hours in ((bj_planner, "3"), (bj_planner, "2.5"), (bj_other_planner, "8")):
        services.training_record_create(actor=city_admin, planner=planner, source="external", title="规划年会",
                                        date="2025-11-02", hours=hours)
    with django_assert_num_queries(1):
        result = selectors.training_hours_by_planner([bj_planner.pk, bj_other_planner.pk, idle.pk], 2025)
    assert result == {bj_planner.pk: Decimal("5.5"), bj_other_planner.pk: Decimal(8), idle.pk: Decimal(0)}
    assert selectors.training_hours_by_planner([], 2025) == {}


def test_the_city_administrator_records_hours_confirmed_at_once(bj_planner, city_admin):
    record = services.training_record_create(actor=city_admin, planner=bj_planner, source="external",
                                             title="北京城市规划学会培训", date="2025-09-09", hours="8",
                                             provider="北京城市规划学会")
    assert record.status == RecordStatus.CONFIRMED and record.confirmed_by == city_admin
    assert selectors.training_hours(bj_planner, 2025) == Decimal(8)
    log = ActionLog.objects.get(action="training.record_create")
    assert log.article == "B23"


def test_pingdingshan_cites_its_own_article(pds_planner, pds_admin):
    services.training_record_create(actor=pds_admin, planner=pds_planner, source="practice", title="片区规划宣讲",
                                    date="2025-04-01", hours="2")
    assert ActionLog.objects.get(action="training.record_create").article == "P3(4)"


def test_others_may_neither_declare_for_a_planner_nor_confirm(bj_planner, bj_other_planner, district_haidian, auditor,
                                                              pds_admin):
    with pytest.raises(NotFound):
        services.training_record_create(actor=bj_other_planner.user, planner=bj_planner, source="practice",
                                        title="冒名申报", date="2025-01-02", hours="1")
    with pytest.raises(NotFound):
        services.training_record_create(actor=district_haidian, planner=bj_planner, source="practice",
                                        title="区里登记", date="2025-01-02", hours="1")
    record = _declare(bj_planner, date="2025-01-02", hours="1")
    with pytest.raises(Forbidden):
        services.training_record_confirm(actor=auditor, record=record)
    with pytest.raises(NotFound):
        services.training_record_confirm(actor=pds_admin, record=record)
    with pytest.raises(Forbidden):
        services.training_record_confirm(actor=bj_planner.user, record=record)
    record.refresh_from_db()
    assert record.status == RecordStatus.PENDING


@pytest.mark.parametrize("fields, code", [
    ({"hours": "0"}, "invalid_hours"),
    ({"hours": "1.25"}, "invalid_hours"),
    ({"hours": "abc"}, "invalid_hours"),
    ({"date": "2999-01-01"}, "date_in_future"),
    ({"source": "course"}, "invalid_source"),
    ({"title": ""}, "field_required"),
    ({"title": "联系 13912345678"}, "personal_identifier"),
])
def test_bad_declarations_are_refused_in_chinese(bj_planner, fields, code):
    data = {"source": "practice", "title": "社区规划讲座", "date": "2025-05-10", "hours": "2", **fields}
    with pytest.raises(DomainError) as exc:
        services.training_record_create(actor=bj_planner.user, planner=bj_planner, **data)
    assert exc.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)
    assert not TrainingRecord.objects.exists()


def test_evidence_is_stored_privately_and_a_pending_declaration_can_be_withdrawn(bj_planner, private_media):
    record = services.training_record_create(actor=bj_planner.user, planner=bj_planner, source="external",
                                             title="外部培训", date="2025-05-10", hours="2",
                                             evidence=upload("结业证书.pdf", PDF_BYTES))
    assert record.evidence_path.startswith("training/") and record.evidence_name == "结业证书.pdf"
    stored = private_media / record.evidence_path
    assert stored.read_bytes() == PDF_BYTES
    services.training_record_withdraw(actor=bj_planner.user, record=record)
    assert not TrainingRecord.objects.exists()


def test_a_confirmed_record_cannot_be_confirmed_again_or_withdrawn(bj_planner, city_admin):
    record = _declare(bj_planner, date="2025-05-10", hours="2")
    services.training_record_confirm(actor=city_admin, record=record)
    with pytest.raises(Conflict):
        services.training_record_confirm(actor=city_admin, record=record)
    with pytest.raises(Conflict):
        services.training_record_withdraw(actor=bj_planner.user, record=record)
    assert ActionLog.objects.filter(action="training.record_confirm").count() == 1


def test_records_are_scoped(bj_planner, bj_other_planner, city_admin, pds_admin, district_haidian):
    mine = _declare(bj_planner, date="2025-05-10", hours="2")
    _declare(bj_other_planner, date="2025-05-10", hours="3")
    assert [r.pk for r in selectors.record_list(user=bj_planner.user)] == [mine.pk]
    assert selectors.record_list(user=city_admin).count() == 2
    assert selectors.record_list(user=pds_admin).count() == 0
    assert selectors.record_list(user=district_haidian).count() == 0
    with pytest.raises(NotFound):
        selectors.record_get(user=bj_other_planner.user, pk=mine.pk)


def test_record_list_keeps_a_constant_query_count(bj_planner, city_admin, beijing, django_assert_max_num_queries):
    for i in range(8):
        planner = make_planner(beijing)
        services.training_record_create(actor=city_admin, planner=planner, source="practice", title=f"实践{i}",
                                        date="2025-05-10", hours="1")
    with django_assert_max_num_queries(1):
        rows = [(r.planner.name, r.city.code, r.confirmed_by_label, str(r.course)) for r in selectors.record_list(user=city_admin)]
    assert len(rows) == 8


def test_the_certificate_covers_confirmed_hours_and_is_reissued_only_when_they_change(bj_planner, city_admin):
    from rpms.documents.models import DocumentStatus

    services.training_record_create(actor=city_admin, planner=bj_planner, source="external", title="规划年会",
                                    date="2025-11-02", hours="8")
    _declare(bj_planner, date="2025-12-01", hours="5")  # pending: not on the certificate
    first = services.training_certificate_issue(actor=bj_planner.user, planner=bj_planner, year=2025)
    document = first.document
    assert document.kind == "training_certificate" and document.verification_code
    assert first.total_hours == Decimal(8)
    assert any(f["value"] == "8 学时" for f in document.context["fields"])
    from rpms.documents.integrity import personal_identifier_findings

    assert personal_identifier_findings(document.context) == []
    again = services.training_certificate_issue(actor=bj_planner.user, planner=bj_planner, year=2025)
    assert again.pk == first.pk
    services.training_record_confirm(actor=city_admin, record=TrainingRecord.objects.get(status="pending"))
    newer = services.training_certificate_issue(actor=city_admin, planner=bj_planner, year=2025)
    assert newer.pk != first.pk and newer.total_hours == Decimal(13)
    document.refresh_from_db()
    assert document.status == DocumentStatus.SUPERSEDED
    logs = ActionLog.objects.filter(action="training.certificate_issue")
    assert logs.count() == 2 and {log.article for log in logs} == {"B23"}


def test_no_certificate_without_confirmed_hours_and_not_for_others(bj_planner, bj_other_planner):
    with pytest.raises(DomainError) as exc:
        services.training_certificate_issue(actor=bj_planner.user, planner=bj_planner, year=2025)
    assert exc.value.code == "no_confirmed_hours"
    with pytest.raises(NotFound):
        services.training_certificate_issue(actor=bj_other_planner.user, planner=bj_planner, year=2025)


def test_years_come_from_the_record_date(bj_planner, city_admin):
    record = services.training_record_create(actor=city_admin, planner=bj_planner, source="practice", title="跨年活动",
                                             date=dt.date(2024, 12, 31), hours="3")
    assert record.year == 2024
