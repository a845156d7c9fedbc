"""E-mail is a background job with retries and back-off (issue #13): the request never waits for or fails
on the mail server; a failed attempt is recorded and retried; what remains unsent is not lost."""
import pytest
from django.core import mail
from django.db import transaction

from rpms.core import jobs
from rpms.notifications import services
from rpms.notifications.models import Notification
from rpms.notifications.services import EmailDeliveryFailed, notify, pending_emails_requeue, send_notification_emails

DOWN = "rpms.notifications.tests.mail_backends.DownBackend"
REFUSING = "rpms.notifications.tests.mail_backends.RefusingBackend"
WORKING = "django.core.mail.backends.locmem.EmailBackend"


class FakeQueue:
    def __init__(self):
        self.calls = []

    def enqueue_call(self, **kwargs):
        self.calls.append(kwargs)
        return type("QueuedJob", (), {"id": "rq-1"})()


@pytest.fixture
def queued(settings, monkeypatch):
    import django_rq

    settings.RPMS_JOBS_INLINE = False
    queue = FakeQueue()
    monkeypatch.setattr(django_rq, "get_queue", lambda name="default", **kw: queue)
    return queue


@pytest.fixture
def retries_left(monkeypatch):
    """As inside an RQ job with retries remaining."""
    monkeypatch.setattr(services, "final_attempt", lambda: False)


@pytest.mark.django_db
def test_production_sends_mail_through_the_queue_with_the_configured_back_off(queued, make_user, settings,
                                                                            django_capture_on_commit_callbacks):
    settings.RPMS_EMAIL_RETRY_INTERVALS = [2, 4, 8]
    alice = make_user(email="alice@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        created = notify(users=[alice], event="x", title="提醒", key="k")
    assert mail.outbox == []  # nothing sent in the request
    (call,) = queued.calls
    assert call["func"] == "rpms.notifications.services.send_notification_emails"
    assert call["args"] == ([created[0].pk],)
    assert call["retry"].max == 3 and call["retry"].intervals == [2, 4, 8]


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_is_down_does_not_fail_the_act(make_user, settings):
    settings.EMAIL_BACKEND = DOWN
    alice = make_user(email="alice@example.org")
    with transaction.atomic():  # as a service in a request
        notify(users=[alice], event="x", title="提醒", key="k")
    note = Notification.objects.get(recipient=alice)  # the inbox item stays
    assert note.emailed_at is None and note.email_attempts == 1
    assert "Connection refused" in note.email_error
    assert note.email_state == "failed"  # inline (development): one attempt; send_pending_emails --failed resends


@pytest.mark.django_db
def test_a_failed_attempt_is_recorded_and_raised_for_the_retry_which_sends_it(make_user, settings, retries_left):
    alice, bob = make_user(email="alice@example.org"), make_user(email="bob@example.org")
    notes = notify(users=[alice, bob], event="x", title="提醒", key="k")  # on_commit not run: we play the worker
    ids = [n.pk for n in notes]

    settings.EMAIL_BACKEND = DOWN
    with pytest.raises(EmailDeliveryFailed):
        send_notification_emails(ids)
    settings.EMAIL_BACKEND = REFUSING
    with pytest.raises(EmailDeliveryFailed):
        send_notification_emails(ids)
    for note in Notification.objects.filter(pk__in=ids):
        assert note.email_attempts == 2 and note.email_failed_at is None and note.email_state == "retrying"
        assert "451" in note.email_error
    assert mail.outbox == []

    settings.EMAIL_BACKEND = WORKING
    assert send_notification_emails(ids) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "bob@example.org"]
    for note in Notification.objects.filter(pk__in=ids):
        assert note.emailed_at is not None and note.email_attempts == 3 and note.email_error == ""
    assert send_notification_emails(ids) == 0  # a late duplicate of the job sends nothing twice
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_the_last_attempt_marks_the_mail_failed(make_user, settings, monkeypatch):
    settings.EMAIL_BACKEND = DOWN
    note = notify(users=[make_user(email="a@example.org")], event="x", title="提醒", key="k")[0]
    monkeypatch.setattr(services, "final_attempt", lambda: True)
    with pytest.raises(EmailDeliveryFailed):
        send_notification_emails([note.pk])
    note.refresh_from_db()
    assert note.email_failed_at is not None and note.email_state == "failed"
    settings.EMAIL_BACKEND = WORKING
    assert send_notification_emails([note.pk]) == 0  # given up: only send_pending_emails --failed takes it again


@pytest.mark.django_db
def test_unsent_mail_is_queued_again_not_lost(make_user, settings, retries_left, queued, django_capture_on_commit_callbacks):
    never = notify(users=[make_user(email="never@example.org")], event="x", title="提醒", key="never")[0]
    retrying = notify(users=[make_user(email="retry@example.org")], event="x", title="提醒", key="retry")[0]
    failed = notify(users=[make_user(email="failed@example.org")], event="x", title="提醒", key="failed")[0]
    Notification.objects.filter(pk=retrying.pk).update(email_attempts=1, email_error="x")
    Notification.objects.filter(pk=failed.pk).update(email_attempts=5, email_failed_at=failed.created_at)
    queued.calls.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert pending_emails_requeue(older_than_minutes=0) == 1
    assert queued.calls[-1]["args"] == ([never.pk],)  # the one between retries belongs to its job

    with django_capture_on_commit_callbacks(execute=True):
        assert pending_emails_requeue(older_than_minutes=0, include_failed=True) == 2
    assert queued.calls[-1]["args"] == ([never.pk, failed.pk],)
    assert Notification.objects.get(pk=failed.pk).email_failed_at is None


@pytest.mark.django_db
def test_the_send_pending_emails_command(make_user, django_capture_on_commit_callbacks):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    note = notify(users=[make_user(email="a@example.org")], event="x", title="提醒", key="k")[0]
    Notification.objects.filter(pk=note.pk).update(created_at=timezone.now() - timedelta(hours=1))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_pending_emails", stdout=out)
    assert "已重新排队 1 条提醒邮件" in out.getvalue()
    assert len(mail.outbox) == 1 and Notification.objects.get(pk=note.pk).emailed_at is not None


def test_jobs_are_inline_in_tests():
    assert jobs.jobs_inline() is True
