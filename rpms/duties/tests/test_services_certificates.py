"""Work certificates (B14(4)): from CONFIRMED records only, as a document with a verification code."""
import datetime as dt
from decimal import Decimal

import pytest
from pdfminer.high_level import extract_text

from rpms.core.errors import DomainError, Forbidden
from rpms.core.models import ActionLog
from rpms.duties import selectors, services
from rpms.duties.models import WorkCertificate

pytestmark = pytest.mark.django_db


def _confirmed(record_factory, planner, unit, entity, **kw):
    return services.duty_record_confirm(actor=entity, record=record_factory(planner, unit, **kw))


def test_a_certificate_counts_confirmed_records_only(bj_planner, bj_unit, street_office, record_factory, today):
    start = today - dt.timedelta(days=30)
    _confirmed(record_factory, bj_planner, bj_unit, street_office, category="research", hours="3",
               date=today - dt.timedelta(days=3))
    _confirmed(record_factory, bj_planner, bj_unit, street_office, category="research", hours="2",
               date=today - dt.timedelta(days=4))
    _confirmed(record_factory, bj_planner, bj_unit, street_office, category="public_liaison", hours="1.5",
               date=today - dt.timedelta(days=5))
    unconfirmed = record_factory(bj_planner, bj_unit, category="research", hours="7", date=today - dt.timedelta(days=6))
    queried = record_factory(bj_planner, bj_unit, category="education_training", hours="4", date=today - dt.timedelta(days=7))
    services.duty_record_query(actor=street_office, record=queried, question="请补充签到表")
    # Outside the period: not counted either.
    _confirmed(record_factory, bj_planner, bj_unit, street_office, hours="5", date=today - dt.timedelta(days=40))

    certificate = services.work_certificate_issue(actor=street_office, planner=bj_planner, start=start, end=today)
    assert certificate.record_count == 3
    assert certificate.total_hours == Decimal("6.5")
    assert {row["code"]: (row["hours"], row["records"]) for row in certificate.summary} == {
        "research": ("5.0", 2), "public_liaison": ("1.5", 1)}
    assert unconfirmed.pk not in set(certificate.records.values_list("pk", flat=True))
    assert queried.pk not in set(certificate.records.values_list("pk", flat=True))
    assert list(certificate.units.all()) == [bj_unit]
    document = certificate.document
    assert document.kind == "work_certificate" and document.status == "valid"
    assert document.subject_type == "duties.workcertificate" and document.subject_id == str(certificate.pk)
    assert len(document.verification_code) >= 16
    row = ActionLog.objects.get(action="duties.work_certificate_issue", object_id=str(certificate.pk))
    assert row.article == "B14(4)" and row.after["verification_code"] == document.verification_code


def test_the_certificate_pdf_shows_the_planner_hours_and_verification_code(bj_planner, bj_unit, street_office, record_factory,
                                                                         today):
    from rpms.documents.rendering import document_pdf

    _confirmed(record_factory, bj_planner, bj_unit, street_office, category="research", hours="3")
    certificate = services.work_certificate_issue(actor=street_office, planner=bj_planner,
                                                  start=today - dt.timedelta(days=10), end=today)
    text = extract_text(__import__("io").BytesIO(document_pdf(certificate.document)))
    flat = "".join(text.split())
    assert "责任规划师工作证明" in flat
    assert bj_planner.name in flat
    assert "强化调查研究" in flat
    assert certificate.document.number in flat
    assert certificate.document.formatted_code.replace(" ", "") in flat.replace("-", "") or \
        certificate.document.verification_code in flat.replace("-", "")


def test_no_confirmed_records_means_no_certificate(bj_planner, bj_unit, street_office, record_factory, today):
    record_factory(bj_planner, bj_unit)  # submitted, not confirmed
    with pytest.raises(DomainError) as exc:
        services.work_certificate_issue(actor=street_office, planner=bj_planner, start=today - dt.timedelta(days=10), end=today)
    assert exc.value.code == "no_confirmed_records"
    assert not WorkCertificate.objects.exists()


def test_only_a_hiring_entity_issues_and_only_from_its_own_units(bj_planner, bj_unit, street_office, other_entity,
                                                                 district_haidian, record_factory, today):
    _confirmed(record_factory, bj_planner, bj_unit, street_office)
    period = {"start": today - dt.timedelta(days=10), "end": today}
    for actor in (district_haidian, bj_planner.user):
        with pytest.raises(Forbidden):
            services.work_certificate_issue(actor=actor, planner=bj_planner, **period)
    with pytest.raises(DomainError) as exc:  # 学院路's office has no confirmed record of this planner in its units
        services.work_certificate_issue(actor=other_entity, planner=bj_planner, **period)
    assert exc.value.code == "no_confirmed_records"


def test_a_period_cannot_end_in_the_future_or_before_it_starts(bj_planner, bj_unit, street_office, record_factory, today):
    _confirmed(record_factory, bj_planner, bj_unit, street_office)
    with pytest.raises(DomainError):
        services.work_certificate_issue(actor=street_office, planner=bj_planner, start=today, end=today + dt.timedelta(days=1))
    with pytest.raises(DomainError):
        services.work_certificate_issue(actor=street_office, planner=bj_planner, start=today, end=today - dt.timedelta(days=1))


def test_pingdingshan_certificate_uses_its_categories_and_article(pds_planner, pds_unit, pds_entity, record_factory, today,
                                                                  pingdingshan):
    _confirmed(record_factory, pds_planner, pds_unit, pds_entity, category="public_participation", hours="2")
    certificate = services.work_certificate_issue(actor=pds_entity, planner=pds_planner,
                                                  start=today - dt.timedelta(days=10), end=today)
    assert [row["label"] for row in certificate.summary] == ["推动公众参与"]
    assert ActionLog.objects.get(action="duties.work_certificate_issue").article == pingdingshan.policy.articles["work_certificate"]
    assert certificate.document.number.startswith("PINGDINGSHAN-")


def test_the_issuer_revokes_with_a_reason(bj_planner, bj_unit, street_office, other_entity, record_factory, today):
    _confirmed(record_factory, bj_planner, bj_unit, street_office)
    certificate = services.work_certificate_issue(actor=street_office, planner=bj_planner,
                                                  start=today - dt.timedelta(days=10), end=today)
    with pytest.raises(Forbidden):
        services.work_certificate_revoke(actor=other_entity, certificate=certificate, reason="错误")
    certificate = services.work_certificate_revoke(actor=street_office, certificate=certificate, reason="期间填写有误")
    assert certificate.document.status == "revoked" and certificate.document.revoke_reason == "期间填写有误"


def test_certificates_are_scoped(bj_planner, bj_unit, street_office, record_factory, today, bj_other, district_chaoyang,
                                 district_haidian):
    _confirmed(record_factory, bj_planner, bj_unit, street_office)
    certificate = services.work_certificate_issue(actor=street_office, planner=bj_planner,
                                                  start=today - dt.timedelta(days=10), end=today)
    for reader in (bj_planner.user, street_office, district_haidian):
        assert selectors.work_certificate_get(user=reader, pk=certificate.pk) == certificate
    from rpms.core.errors import NotFound

    for outsider in (bj_other.user, district_chaoyang):
        with pytest.raises(NotFound):
            selectors.work_certificate_get(user=outsider, pk=certificate.pk)
