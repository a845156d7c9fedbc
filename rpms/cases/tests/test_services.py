"""Outstanding cases (P3(4), B22): submission only for the planner's own units, the review flow with its
transitions, photos re-encoded without metadata, notifications and one audit row per act."""
import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from rpms.cases import services
from rpms.cases.models import Case, CasePhoto, CaseStatus
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.notifications.models import Notification
from rpms.testing.pdfs import TINY_PDF

from .conftest import BODY, jpeg, png

pytestmark = pytest.mark.django_db


def test_a_planner_submits_a_case_for_a_unit_it_serves(bj_planner, bj_unit, city_admin, submit):
    case = submit(bj_planner.user, bj_unit, duty_category="public_liaison")
    assert case.status == CaseStatus.SUBMITTED and case.submitted_at is not None
    assert case.planner == bj_planner and case.unit == bj_unit and case.district == bj_unit.district
    assert case.zone_type == "central"  # Haidian
    assert case.zone_type_label == "中心城区" and case.duty_category_label == "广泛联系群众"
    assert not case.is_public
    row = ActionLog.objects.get(action="cases.case_submit")
    assert row.article == "B22" and row.object_id == str(case.pk)
    note = Notification.objects.get(recipient=city_admin, event="case.submitted")
    assert case.title in note.title and note.url == f"/cases/manage/{case.pk}/"


def test_the_zone_type_comes_from_the_unit(beijing, bj_core_unit, city_admin, make_planner, appoint, submit):
    planner = make_planner(beijing)
    appoint(city_admin, planner, bj_core_unit)
    assert submit(planner.user, bj_core_unit).zone_type == "core"


def test_a_pingdingshan_case_has_no_zone_type_and_cites_p3_4(pingdingshan, pds_unit, pds_admin, make_planner, appoint, submit):
    planner = make_planner(pingdingshan)
    appoint(pds_admin, planner, pds_unit)
    case = submit(planner.user, pds_unit, duty_category="experience_summary")
    assert case.zone_type == "" and case.zone_type_label == ""
    assert ActionLog.objects.get(action="cases.case_submit").article == "P3(4)"


def test_submission_for_a_unit_the_planner_never_served_is_refused(bj_planner, bj_other_unit, submit):
    with pytest.raises(Forbidden) as exc:
        submit(bj_planner.user, bj_other_unit)
    assert exc.value.code == "not_your_unit"
    assert not Case.objects.exists() and not ActionLog.objects.filter(action="cases.case_submit").exists()


def test_a_unit_the_planner_served_before_is_accepted(bj_planner, bj_unit, submit):
    from rpms.appointments.models import Appointment

    appointment = Appointment.objects.get(planner=bj_planner)
    Appointment.objects.filter(pk=appointment.pk).update(status="terminated", ended_on=appointment.start)
    assert submit(bj_planner.user, bj_unit).appointment_id == appointment.pk


def test_an_appointment_not_yet_begun_does_not_count(beijing, bj_other_unit, city_admin, make_planner, appoint, submit):
    planner = make_planner(beijing)
    appoint(city_admin, planner, bj_other_unit, start=timezone.localdate() + dt.timedelta(days=10))
    with pytest.raises(Forbidden):
        submit(planner.user, bj_other_unit)


def test_only_planners_submit_cases(district_haidian, bj_unit, submit):
    with pytest.raises(Forbidden):
        submit(district_haidian, bj_unit)


@pytest.mark.parametrize("field,value,code", [
    ("duty_category", "not_a_category", "invalid_duty_category"),
    ("title", "", "invalid_title"),
    ("summary", "x" * 301, "invalid_summary"),
    ("body", "太短", "invalid_body"),
])
def test_invalid_fields_are_refused_with_a_chinese_message(bj_planner, bj_unit, submit, field, value, code):
    with pytest.raises(DomainError) as exc:
        submit(bj_planner.user, bj_unit, **{field: value})
    assert exc.value.code == code and exc.value.status == 400
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)
    assert not Case.objects.exists()


# --- photos ----------------------------------------------------------------------------------------------


def _gps_exif():
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (39.0, 54.0, 27.0)
    return exif


def test_photos_are_stored_re_encoded_without_metadata_and_scaled(bj_planner, bj_unit, submit, settings):
    from PIL import Image

    big = jpeg("现场照片.jpg", size=(3200, 2000), exif=_gps_exif())
    case = submit(bj_planner.user, bj_unit, photos=[big, png("plan.png")], captions=["改造后的口袋公园", ""])
    photos = list(case.photos.order_by("sort_order"))
    assert [p.kind for p in photos] == ["jpeg", "png"]
    assert photos[0].caption == "改造后的口袋公园" and photos[0].original_name == "现场照片.jpg"
    assert (photos[0].width, photos[0].height) == (1600, 1000)
    with Image.open(settings.PRIVATE_MEDIA_ROOT / photos[0].path) as stored:
        assert stored.size == (1600, 1000)
        assert len(stored.getexif()) == 0  # no camera, no GPS position


def test_a_pdf_is_not_accepted_as_a_case_photo(bj_planner, bj_unit, submit):
    pdf = SimpleUploadedFile("scan.pdf", TINY_PDF, content_type="application/pdf")
    with pytest.raises(DomainError) as exc:
        submit(bj_planner.user, bj_unit, photos=[pdf])
    assert exc.value.code == "photo_type_not_allowed"
    assert not Case.objects.exists()


def test_more_than_nine_photos_are_refused_and_no_file_stays_behind(bj_planner, bj_unit, submit, settings):
    with pytest.raises(DomainError) as exc:
        submit(bj_planner.user, bj_unit, photos=[jpeg(f"p{i}.jpg") for i in range(10)])
    assert exc.value.code == "too_many_photos"
    root = settings.PRIVATE_MEDIA_ROOT
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def test_a_failure_after_storing_photos_removes_the_files(bj_planner, bj_unit, submit, settings, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(services, "audit_log", boom)
    with pytest.raises(RuntimeError):
        submit(bj_planner.user, bj_unit, photos=[jpeg()])
    assert not Case.objects.exists() and not CasePhoto.objects.exists()
    root = settings.PRIVATE_MEDIA_ROOT
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


# --- review ----------------------------------------------------------------------------------------------


def test_return_revise_and_publish(bj_planner, bj_unit, city_admin, submit):
    case = submit(bj_planner.user, bj_unit, photos=[jpeg("a.jpg"), jpeg("b.jpg")])
    returned = services.case_review(actor=city_admin, case=case, decision="return", comment="请补充成效数据。")
    assert returned.status == CaseStatus.RETURNED and returned.review_comment == "请补充成效数据。"
    note = Notification.objects.get(recipient=bj_planner.user, event="case.return")
    assert "请补充成效数据" in note.body

    first_photo = returned.photos.order_by("sort_order").first()
    revised = services.case_revise(
        actor=bj_planner.user, case=returned, title="口袋公园（补充成效）", duty_category="co_governance",
        summary="补充了成效数据。", body=BODY + "改造后日均使用人数约三百人次。", photos=[png("after.png")],
        remove_photo_ids=[first_photo.pk],
    )
    assert revised.status == CaseStatus.SUBMITTED and revised.duty_category == "co_governance"
    assert revised.photos.count() == 2 and not revised.photos.filter(pk=first_photo.pk).exists()
    assert Notification.objects.filter(recipient=city_admin, event="case.submitted").count() == 2

    published = services.case_review(actor=city_admin, case=revised, decision="publish", comment="推荐。")
    assert published.status == CaseStatus.PUBLISHED and published.published_at is not None and published.is_public
    assert Notification.objects.filter(recipient=bj_planner.user, event="case.publish").count() == 1
    actions = list(ActionLog.objects.filter(object_type="cases.case").order_by("id").values_list("action", "article"))
    assert actions == [("cases.case_submit", "B22"), ("cases.case_review", "B22"),
                       ("cases.case_revise", "B22"), ("cases.case_review", "B22")]


def test_rejecting_or_returning_needs_a_comment(bj_planner, bj_unit, city_admin, submit):
    case = submit(bj_planner.user, bj_unit)
    for decision in ("reject", "return"):
        with pytest.raises(DomainError) as exc:
            services.case_review(actor=city_admin, case=case, decision=decision, comment=" ")
        assert exc.value.code == "comment_required"
    rejected = services.case_review(actor=city_admin, case=case, decision="reject", comment="与优秀案例标准差距较大。")
    assert rejected.status == CaseStatus.REJECTED and not rejected.is_public


def test_a_decided_case_cannot_be_decided_again(bj_planner, bj_unit, city_admin, submit):
    case = submit(bj_planner.user, bj_unit)
    services.case_review(actor=city_admin, case=case, decision="reject", comment="不予推荐。")
    with pytest.raises(Conflict):
        services.case_review(actor=city_admin, case=case, decision="publish")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REJECTED


def test_only_a_returned_case_can_be_revised_and_only_by_its_author(beijing, bj_planner, bj_unit, city_admin, make_planner, submit):
    case = submit(bj_planner.user, bj_unit)
    with pytest.raises(Conflict):
        services.case_revise(actor=bj_planner.user, case=case, title="t", duty_category="research", summary="s", body=BODY)
    services.case_review(actor=city_admin, case=case, decision="return", comment="请修改。")
    stranger = make_planner(beijing).user
    with pytest.raises(NotFound):
        services.case_revise(actor=stranger, case=case, title="t", duty_category="research", summary="s", body=BODY)
    with pytest.raises(Forbidden):
        services.case_revise(actor=city_admin, case=case, title="t", duty_category="research", summary="s", body=BODY)


def test_only_the_city_administrator_of_the_city_reviews(bj_planner, bj_unit, pds_admin, district_haidian, submit):
    case = submit(bj_planner.user, bj_unit)
    with pytest.raises(NotFound):
        services.case_review(actor=pds_admin, case=case, decision="publish")
    with pytest.raises(Forbidden):
        services.case_review(actor=district_haidian, case=case, decision="publish")
    with pytest.raises(Forbidden):
        services.case_review(actor=bj_planner.user, case=case, decision="publish")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


def test_unpublishing_takes_the_case_off_the_public_site(bj_planner, bj_unit, city_admin, published):
    case = published(bj_planner.user, bj_unit)
    with pytest.raises(DomainError):
        services.case_unpublish(actor=city_admin, case=case, reason="")
    withdrawn = services.case_unpublish(actor=city_admin, case=case, reason="图片涉及未公开信息。")
    assert withdrawn.status == CaseStatus.WITHDRAWN and not withdrawn.is_public
    assert not Case.objects.published().exists()
    assert Notification.objects.filter(recipient=bj_planner.user, event="case.unpublished").exists()


def test_an_unknown_decision_is_refused(bj_planner, bj_unit, city_admin, submit):
    case = submit(bj_planner.user, bj_unit)
    with pytest.raises(DomainError) as exc:
        services.case_review(actor=city_admin, case=case, decision="approve")
    assert exc.value.code == "invalid_decision"
