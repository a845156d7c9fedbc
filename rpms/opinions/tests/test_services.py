"""The acts on written opinions, in both cities (the `world` fixture runs each test for Beijing and
Pingdingshan)."""
import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from rpms.core.errors import Conflict, DomainError, Forbidden
from rpms.core.models import ActionLog
from rpms.documents.integrity import canonical_json
from rpms.documents.models import DocumentStatus, IssuedDocument
from rpms.opinions import services
from rpms.opinions.models import (
    OpinionAttachment,
    OpinionImmutable,
    OpinionReceipt,
    OpinionResponse,
    OpinionStatus,
    WrittenOpinion,
)
from rpms.testing.pdfs import TINY_PDF

from .conftest import appoint, draft_data, make_planner

PDF_BYTES = TINY_PDF


def audit_rows(opinion, action):
    return list(ActionLog.objects.filter(object_type="opinions.writtenopinion", object_id=str(opinion.pk), action=action))


# --- who may draft and issue ------------------------------------------------------------------------


def test_a_serving_planner_drafts_an_opinion_with_the_hiring_entity_as_recipient(world, make_draft):
    opinion = make_draft(world)
    assert opinion.status == OpinionStatus.DRAFT
    assert opinion.planner == world.planner
    assert opinion.hiring_entity_name == f"{world.unit.current_subdistricts[0].name}办事处"
    assert opinion.title == f"关于{opinion.subject}的书面意见"
    assert set(opinion.departments.values_list("pk", flat=True)) == {world.department.pk, world.city_department.pk}
    [row] = audit_rows(opinion, "opinions.create")
    assert row.article == world.opinion_article


def test_a_planner_not_serving_the_unit_cannot_draft(world):
    with pytest.raises(Forbidden) as info:
        services.opinion_create(actor=world.outsider, unit=world.unit, **draft_data(world))
    assert info.value.status == 403
    assert info.value.code == "opinion_not_serving"
    assert not WrittenOpinion.objects.exists()


def test_other_roles_cannot_draft(world):
    for user in (world.entity, world.officer, world.admin):
        with pytest.raises(Forbidden):
            services.opinion_create(actor=user, unit=world.unit, **draft_data(world))
    assert not WrittenOpinion.objects.exists()


def test_a_planner_whose_appointment_ended_cannot_issue_its_draft(world, make_draft):
    opinion = make_draft(world)
    services.opinion_interest_declare(actor=world.author, opinion=opinion, has_conflict=False)
    appointment = world.planner.appointments.get()
    appointment.end = timezone.localdate() - dt.timedelta(days=1)
    appointment.start = appointment.end - dt.timedelta(days=100)
    appointment.save()
    with pytest.raises(Forbidden) as info:
        services.opinion_issue(actor=world.author, opinion=opinion)
    assert info.value.status == 403
    opinion.refresh_from_db()
    assert opinion.status == OpinionStatus.DRAFT
    assert not IssuedDocument.objects.exists()


def test_only_the_author_edits_a_draft(world, make_draft):
    opinion = make_draft(world)
    colleague = make_planner(world.city, "同单元规划师")
    appoint(colleague, world.unit)
    with pytest.raises(Forbidden):
        services.opinion_update(actor=colleague.user, opinion=opinion, data={"findings": "改写"})
    with pytest.raises(Forbidden):
        services.opinion_issue(actor=colleague.user, opinion=opinion)
    opinion.refresh_from_db()
    assert opinion.findings.startswith("1. 沿街界面")


def test_departments_outside_the_city_or_the_units_district_are_refused(world):
    with pytest.raises(DomainError) as info:
        services.opinion_create(actor=world.author, unit=world.unit,
                                **draft_data(world, departments=[world.foreign_department.pk]))
    assert info.value.code == "opinion_department_invalid"
    assert not WrittenOpinion.objects.exists()


def test_a_mobile_number_in_the_findings_is_refused(world):
    with pytest.raises(DomainError) as info:
        services.opinion_create(actor=world.author, unit=world.unit,
                                **draft_data(world, findings="请联系 138 0013 8000 了解详情"))
    assert info.value.code == "opinion_personal_data"


# --- declaration of interests -----------------------------------------------------------------------


def test_a_declared_conflict_blocks_issuing_citing_the_city_article(world, make_draft):
    opinion = make_draft(world)
    services.opinion_interest_declare(actor=world.author, opinion=opinion, has_conflict=True,
                                      note="本人曾受聘于该设计单位")
    [row] = audit_rows(opinion, "opinions.interest_declare")
    assert row.article == world.interest_article
    with pytest.raises(DomainError) as info:
        services.opinion_issue(actor=world.author, opinion=opinion)
    assert info.value.code == "opinion_interest_conflict"
    assert world.interest_article in info.value.message
    opinion.refresh_from_db()
    assert opinion.status == OpinionStatus.DRAFT
    assert opinion.content_hash == "" and opinion.document_id is None
    assert not IssuedDocument.objects.exists()
    assert not audit_rows(opinion, "opinions.issue")


def test_issuing_without_a_declaration_is_refused(world, make_draft):
    opinion = make_draft(world)
    with pytest.raises(DomainError) as info:
        services.opinion_issue(actor=world.author, opinion=opinion)
    assert info.value.code == "opinion_interest_undeclared"
    assert not IssuedDocument.objects.exists()


def test_a_conflict_must_be_explained(world, make_draft):
    opinion = make_draft(world)
    with pytest.raises(DomainError) as info:
        services.opinion_interest_declare(actor=world.author, opinion=opinion, has_conflict=True, note="")
    assert info.value.code == "opinion_interest_note_required"


def test_changing_the_project_parties_withdraws_the_declaration(world, make_draft):
    opinion = make_draft(world)
    services.opinion_interest_declare(actor=world.author, opinion=opinion, has_conflict=False)
    opinion = services.opinion_update(actor=world.author, opinion=opinion, data={"findings": "补充意见"})
    assert opinion.declaration_made  # parties unchanged
    opinion = services.opinion_update(actor=world.author, opinion=opinion, data={"design_unit": "另一家设计院"})
    assert not opinion.declaration_made
    with pytest.raises(DomainError):
        services.opinion_issue(actor=world.author, opinion=opinion)


# --- issuing ----------------------------------------------------------------------------------------


def test_issuing_freezes_the_content_with_its_hash_and_a_verifiable_document(world, make_issued):
    opinion = make_issued(world)
    opinion.refresh_from_db()
    assert opinion.status == OpinionStatus.ISSUED
    assert opinion.issued_at is not None and opinion.issued_by == world.author
    expected = hashlib.sha256(canonical_json(opinion.content).encode("utf-8")).hexdigest()
    assert opinion.content_hash == expected
    content = opinion.content
    assert content["subject"] == opinion.subject
    assert content["findings"] == opinion.findings
    assert content["recipients"]["hiring_entity"] == opinion.hiring_entity_name
    assert sorted(content["recipients"]["departments"]) == sorted([world.department.name, world.city_department.name])
    assert content["declaration"]["has_conflict"] is False
    assert content["declaration"]["article"] == world.interest_article
    assert "不存在" in content["declaration"]["text"]
    document = opinion.document
    assert document.kind == "written_opinion"
    assert document.status == DocumentStatus.VALID
    assert document.subject_type == "opinions.writtenopinion" and document.subject_id == str(opinion.pk)
    assert document.context["opinion_content_hash"].replace(":", "") == opinion.content_hash
    assert document.hash_matches()
    [row] = audit_rows(opinion, "opinions.issue")
    assert row.article == world.opinion_article
    assert row.after["content_hash"] == opinion.content_hash


def test_a_printed_hash_never_reads_as_an_id_or_mobile_number():
    # A SHA-256 in hex often holds a run of 11+ decimal digits. Bounded by letters it is not read as a
    # mobile or ID number; printed in groups of eight (for readability) it is not either, and reads back.
    from rpms.documents.integrity import personal_identifier_findings

    digest = "ab13800138000cd110108199003071234ef" + "a" * 30
    assert personal_identifier_findings({"h": digest}) == []
    assert personal_identifier_findings({"h": "联系 13800138000"})  # a real number still is
    assert personal_identifier_findings({"h": services.grouped_hash(digest)}) == []
    assert services.grouped_hash(digest).replace(":", "") == digest


def test_issuing_needs_findings_recommendations_and_documents(world, make_draft):
    opinion = make_draft(world, findings="", reviewed_documents=[])
    services.opinion_interest_declare(actor=world.author, opinion=opinion, has_conflict=False)
    with pytest.raises(DomainError) as info:
        services.opinion_issue(actor=world.author, opinion=opinion)
    assert info.value.code == "opinion_incomplete"
    assert "审查意见" in info.value.message and "审查的文件" in info.value.message


# --- immutability -----------------------------------------------------------------------------------


def test_an_issued_opinion_cannot_be_changed_through_the_services(world, make_issued):
    opinion = make_issued(world)
    upload = SimpleUploadedFile("补充.pdf", PDF_BYTES, content_type="application/pdf")
    attempts = [
        lambda: services.opinion_update(actor=world.author, opinion=opinion, data={"findings": "篡改"}),
        lambda: services.opinion_interest_declare(actor=world.author, opinion=opinion, has_conflict=True, note="x"),
        lambda: services.opinion_attachment_add(actor=world.author, opinion=opinion, file=upload),
        lambda: services.opinion_discard(actor=world.author, opinion=opinion),
        lambda: services.opinion_issue(actor=world.author, opinion=opinion),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as info:
            attempt()
        assert info.value.status == 409
    fresh = WrittenOpinion.objects.get(pk=opinion.pk)
    assert fresh.findings == opinion.findings and fresh.content_hash == opinion.content_hash
    assert not OpinionAttachment.objects.exists()


def test_the_model_refuses_any_change_to_an_issued_opinion(world, make_issued):
    opinion = make_issued(world)
    original_hash = opinion.content_hash

    def tamper_save():
        opinion.findings = "在数据库层面篡改"
        opinion.save()

    def back_to_draft():
        fresh = WrittenOpinion.objects.get(pk=opinion.pk)
        fresh.status = OpinionStatus.DRAFT
        fresh.save()

    attempts = [
        tamper_save,
        lambda: WrittenOpinion.objects.filter(pk=opinion.pk).update(findings="批量篡改"),
        lambda: WrittenOpinion.objects.filter(pk=opinion.pk).update(status=OpinionStatus.DRAFT),
        back_to_draft,
        lambda: WrittenOpinion.objects.get(pk=opinion.pk).delete(),
        lambda: WrittenOpinion.objects.filter(pk=opinion.pk).delete(),
        lambda: WrittenOpinion.objects.get(pk=opinion.pk).departments.add(world.foreign_department),
        lambda: WrittenOpinion.objects.get(pk=opinion.pk).departments.clear(),
        lambda: world.department.opinions.remove(opinion),
        lambda: OpinionAttachment.objects.create(opinion=opinion, title="x", path="x", original_name="x", kind="pdf",
                                                 size=1, sha256="0" * 64),
    ]
    for attempt in attempts:
        # Each attempt in its own savepoint: a refused write inside Django's own atomic blocks marks
        # the enclosing transaction for rollback, as it should.
        with pytest.raises(OpinionImmutable), transaction.atomic():
            attempt()
    fresh = WrittenOpinion.objects.get(pk=opinion.pk)
    assert fresh.findings != "在数据库层面篡改" and fresh.status == OpinionStatus.ISSUED
    assert fresh.content_hash == original_hash
    assert fresh.departments.count() == 2
    assert not OpinionAttachment.objects.exists()


def test_a_draft_can_still_be_changed_and_discarded(world, make_draft):
    opinion = make_draft(world)
    opinion = services.opinion_update(actor=world.author, opinion=opinion,
                                      data={"findings": "修改后的意见", "departments": [world.department.pk]})
    assert opinion.findings == "修改后的意见"
    assert list(opinion.departments.all()) == [world.department]
    services.opinion_discard(actor=world.author, opinion=opinion)
    assert not WrittenOpinion.objects.exists()
    assert ActionLog.objects.filter(action="opinions.discard").count() == 1


# --- corrections ------------------------------------------------------------------------------------


def test_a_correction_supersedes_the_old_version_and_both_are_kept(world, make_issued):
    old = make_issued(world)
    draft = services.opinion_supersede(actor=world.author, opinion=old, reason="更正第 2 条建议的表述")
    assert draft.version == 2 and draft.supersedes == old and draft.status == OpinionStatus.DRAFT
    assert not draft.declaration_made  # declared afresh for the new version
    old.refresh_from_db()
    assert old.status == OpinionStatus.ISSUED  # valid until the correction is issued

    draft = services.opinion_update(actor=world.author, opinion=draft,
                                    data={"recommendations": "1. 优化沿街建筑退线。\n2. 打通东西向步行通道。"})
    services.opinion_interest_declare(actor=world.author, opinion=draft, has_conflict=False)
    new = services.opinion_issue(actor=world.author, opinion=draft)

    old.refresh_from_db()
    new.refresh_from_db()
    assert old.status == OpinionStatus.SUPERSEDED and old.superseded_at == new.issued_at
    assert new.status == OpinionStatus.ISSUED and new.version == 2
    assert old.document.status == DocumentStatus.SUPERSEDED
    assert new.document.status == DocumentStatus.VALID and new.document.supersedes == old.document
    assert old.content_hash != new.content_hash
    for version in (old, new):
        assert version.content_hash == hashlib.sha256(canonical_json(version.content).encode("utf-8")).hexdigest()
    assert new.content["supersedes"]["document_number"] == old.document.number
    assert new.content["correction_reason"] == "更正第 2 条建议的表述"
    assert old.content["recommendations"] != new.content["recommendations"]
    assert WrittenOpinion.objects.count() == 2
    assert len(audit_rows(new, "opinions.supersede")) == 1


def test_only_one_pending_correction_and_never_of_a_superseded_version(world, make_issued):
    old = make_issued(world)
    draft = services.opinion_supersede(actor=world.author, opinion=old, reason="更正")
    with pytest.raises(Conflict) as info:
        services.opinion_supersede(actor=world.author, opinion=old, reason="再次更正")
    assert info.value.code == "opinion_correction_pending"
    services.opinion_interest_declare(actor=world.author, opinion=draft, has_conflict=False)
    services.opinion_issue(actor=world.author, opinion=draft)
    with pytest.raises(Conflict) as info:
        services.opinion_supersede(actor=world.author, opinion=WrittenOpinion.objects.get(pk=old.pk), reason="x")
    assert info.value.code == "opinion_not_supersedable"


def test_a_correction_needs_a_reason_and_the_author(world, make_issued):
    old = make_issued(world)
    with pytest.raises(DomainError):
        services.opinion_supersede(actor=world.author, opinion=old, reason="  ")
    with pytest.raises(Forbidden):
        services.opinion_supersede(actor=world.outsider, opinion=old, reason="更正")
    assert WrittenOpinion.objects.count() == 1


def test_a_correction_keeps_the_attachments_by_reference(world, make_draft, django_capture_on_commit_callbacks):
    from rpms.core.uploads import private_file as _resolve

    opinion = make_draft(world)
    upload = SimpleUploadedFile("送审图纸.pdf", PDF_BYTES, content_type="application/pdf")
    attachment = services.opinion_attachment_add(actor=world.author, opinion=opinion, file=upload, title="送审图纸")
    services.opinion_interest_declare(actor=world.author, opinion=opinion, has_conflict=False)
    opinion = services.opinion_issue(actor=world.author, opinion=opinion)
    assert opinion.content["attachments"][0]["sha256"] == attachment.sha256
    draft = services.opinion_supersede(actor=world.author, opinion=opinion, reason="更正")
    [copied] = draft.attachments.all()
    assert copied.path == attachment.path and copied.sha256 == attachment.sha256
    # Removing it from the correction keeps the file the issued version still refers to ...
    with django_capture_on_commit_callbacks(execute=True):
        services.opinion_attachment_remove(actor=world.author, opinion=draft, attachment_id=copied.pk)
    assert _resolve(attachment.path).is_file()
    # ... while a file only a draft used is removed with it.
    extra = services.opinion_attachment_add(
        actor=world.author, opinion=draft, file=SimpleUploadedFile("补充.pdf", PDF_BYTES), title="补充材料")
    path = _resolve(extra.path)
    with django_capture_on_commit_callbacks(execute=True):
        services.opinion_attachment_remove(actor=world.author, opinion=draft, attachment_id=extra.pk)
    assert not path.exists()


# --- delivery and responses -------------------------------------------------------------------------


def test_the_recipients_read_receipt_is_recorded_once(world, make_issued):
    opinion = make_issued(world)
    first = services.opinion_mark_read(actor=world.entity, opinion=opinion)
    again = services.opinion_mark_read(actor=world.entity, opinion=opinion)
    services.opinion_mark_read(actor=world.officer, opinion=opinion)
    assert first.pk == again.pk
    assert OpinionReceipt.objects.filter(opinion=opinion).count() == 2
    assert len(audit_rows(opinion, "opinions.read")) == 2
    with pytest.raises(Forbidden):
        services.opinion_mark_read(actor=world.other_officer, opinion=opinion)


def test_the_design_units_response_is_recorded_by_the_hiring_entity(world, make_issued):
    opinion = make_issued(world)
    with pytest.raises(DomainError) as info:
        services.opinion_response_record(actor=world.entity, opinion=opinion, responder="design_unit",
                                         outcome="partly_adopted", reasons="")
    assert info.value.code == "opinion_response_reason_required"
    response = services.opinion_response_record(
        actor=world.entity, opinion=opinion, responder="design_unit", outcome="partly_adopted",
        reasons="步行通道受产权边界限制，仅部分打通", responded_on=timezone.localdate(),
    )
    assert response.responder_name == opinion.design_unit
    assert response.get_outcome_display() == "部分采纳"
    with pytest.raises(Conflict):
        services.opinion_response_record(actor=world.author, opinion=opinion, responder="design_unit",
                                         outcome="adopted")
    [row] = audit_rows(opinion, "opinions.response_record")
    assert row.article == world.opinion_article


def test_a_departments_answer_is_recorded_by_the_planner_for_a_recipient_department_only(world, make_issued):
    opinion = make_issued(world)
    services.opinion_response_record(actor=world.author, opinion=opinion, responder="department", outcome="adopted",
                                     department_id=world.department.pk)
    with pytest.raises(DomainError) as info:
        services.opinion_response_record(actor=world.author, opinion=opinion, responder="department",
                                         outcome="adopted", department_id=world.foreign_department.pk)
    assert info.value.code == "opinion_department_invalid"
    assert OpinionResponse.objects.filter(opinion=opinion).count() == 1


def test_district_officers_and_outsiders_do_not_record_responses(world, make_issued):
    opinion = make_issued(world)
    for user in (world.officer, world.outsider, world.other_officer):
        with pytest.raises(Forbidden):
            services.opinion_response_record(actor=user, opinion=opinion, responder="design_unit", outcome="adopted")
    assert not OpinionResponse.objects.exists()


def test_a_response_date_before_the_opinion_or_in_the_future_is_refused(world, make_issued):
    opinion = make_issued(world)
    for day in (timezone.localdate() - dt.timedelta(days=3), timezone.localdate() + dt.timedelta(days=1)):
        with pytest.raises(DomainError) as info:
            services.opinion_response_record(actor=world.entity, opinion=opinion, responder="design_unit",
                                             outcome="adopted", responded_on=day)
        assert info.value.code == "invalid_date"
