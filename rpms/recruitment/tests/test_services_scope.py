"""Every recruitment service checks its actor itself (#14): the views and the API check too, but a
service called directly refuses an administrator of another city as 404 (the record is not revealed)
and a role that may not act on a record in its scope as 403; nothing is written either way."""
import pytest

from rpms.core.errors import Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.recruitment import services
from rpms.recruitment.models import ApplicationStatus, CallStatus, Objection, OpenCall, PublicNotice
from rpms.testing.pdfs import TINY_PDF

from .factories import applicant, approved_application, open_call, pingdingshan_data

pytestmark = pytest.mark.django_db

OUT_OF_SCOPE = "city_admin"  # Beijing's administrator, acting on Pingdingshan's recruitment
IN_SCOPE_WRONG_ROLE = "auditor"  # reads every city's recruitment, acts on none


@pytest.fixture
def actors(city_admin, auditor):
    return {OUT_OF_SCOPE: city_admin, IN_SCOPE_WRONG_ROLE: auditor}


def refused(actors, act, **kwargs):
    """`act` refused as 404 for the other city's administrator and 403 for the auditor; no audit row."""
    before = ActionLog.objects.count()
    with pytest.raises(NotFound) as outside:
        act(actor=actors[OUT_OF_SCOPE], **kwargs)
    assert outside.value.status == 404 and outside.value.message
    with pytest.raises(Forbidden) as role:
        act(actor=actors[IN_SCOPE_WRONG_ROLE], **kwargs)
    assert role.value.status == 403
    assert ActionLog.objects.count() == before


def test_calls_are_created_published_and_withdrawn_by_their_citys_administrators_only(actors, pds_admin, pingdingshan):
    import datetime as dt

    refused(actors, services.call_create, city=pingdingshan, title="越权征集", deadline=dt.date.today() + dt.timedelta(days=9))
    assert not OpenCall.objects.filter(title="越权征集").exists()
    draft = open_call(pds_admin, pingdingshan, publish=False)
    refused(actors, services.call_publish, call=draft)
    refused(actors, services.call_withdraw, call=draft, reason="越权撤回")
    draft.refresh_from_db()
    assert draft.status == CallStatus.DRAFT


def test_applications_are_reviewed_by_their_citys_administrators_only(actors, pds_admin, pingdingshan):
    call = open_call(pds_admin, pingdingshan)
    application = services.application_submit(actor=applicant("scope_a", pingdingshan), call=call, data=pingdingshan_data())
    refused(actors, services.application_review, application=application, decision="reject", reason="越权审核")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_notices_and_objections_are_handled_by_their_citys_administrators_only(actors, pds_admin, pingdingshan):
    call = open_call(pds_admin, pingdingshan)
    entry = approved_application(pds_admin, call, applicant("scope_b", pingdingshan), pingdingshan_data())
    refused(actors, services.notice_publish, call=call)
    assert not PublicNotice.objects.exists()
    notice = services.notice_publish(actor=pds_admin, call=call)
    objection = services.objection_submit(notice=notice, application_id=entry.pk, content="反映问题", contact_name="居民甲",
                                          contact_phone="010-12345678")
    refused(actors, services.objection_resolve, objection=objection, upheld=True, finding="越权认定")
    assert Objection.objects.get(pk=objection.pk).resolution == ""
    refused(actors, services.notice_close, notice=notice)
    notice.refresh_from_db()
    assert notice.closed_at is None


def test_a_proof_is_added_by_the_applicant_only(pds_admin, pingdingshan):
    from django.core.files.uploadedfile import SimpleUploadedFile

    call = open_call(pds_admin, pingdingshan)
    application = services.application_submit(actor=applicant("scope_c", pingdingshan), call=call, data=pingdingshan_data())
    pdf = SimpleUploadedFile("证书.pdf", TINY_PDF, content_type="application/pdf")
    with pytest.raises(NotFound):  # another applicant: someone else's application is not revealed
        services.proof_add(actor=applicant("scope_d", pingdingshan), application=application, file=pdf)
    with pytest.raises(Forbidden):  # the city's administrator sees it but does not upload the applicant's proofs
        services.proof_add(actor=pds_admin, application=application, file=pdf)
    assert not application.proofs.exists()
