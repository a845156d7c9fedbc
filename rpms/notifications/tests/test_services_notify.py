import pytest
from django.core import mail
from django.db import transaction

from rpms.core.errors import DomainError
from rpms.notifications.models import Notification
from rpms.notifications.services import notify


class _Boom(Exception):
    pass


def fake_decision_service(*, recipients, fail: bool):
    """Stands in for another app's service: it notifies inside its own transaction, then may fail."""
    with transaction.atomic():
        notify(users=recipients, event="fake.decided", title="您的申请已处理", body="详情见系统。", url="/inbox/", key="fake:1")
        if fail:
            raise _Boom()


@pytest.mark.django_db
def test_notify_creates_one_inbox_item_per_user_and_mails_after_commit(make_user, django_capture_on_commit_callbacks):
    alice, bob = make_user(email="alice@example.org"), make_user(email="bob@example.org")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        created = notify(users=[alice, bob, alice], event="x.happened", title="有新事项", key="x:1")
    assert len(created) == 2
    assert len(callbacks) == 1
    assert Notification.objects.filter(key="x:1").count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "bob@example.org"]
    assert all("有新事项" in m.subject for m in mail.outbox)
    assert Notification.objects.filter(key="x:1", emailed_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_the_same_key_is_never_delivered_twice(make_user, django_capture_on_commit_callbacks):
    alice = make_user(email="alice@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(users=[alice], event="x", title="提醒", key="same")
    with django_capture_on_commit_callbacks(execute=True):
        second = notify(users=[alice], event="x", title="提醒", key="same")
    assert len(first) == 1 and second == []
    assert Notification.objects.filter(recipient=alice).count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_user_without_an_email_address_gets_only_the_inbox_item(make_user, django_capture_on_commit_callbacks):
    silent = make_user(email="")
    with django_capture_on_commit_callbacks(execute=True):
        created = notify(users=[silent], event="x", title="提醒", key="k")
    assert len(created) == 1
    assert mail.outbox == []
    assert Notification.objects.get(recipient=silent).emailed_at is None


@pytest.mark.django_db
def test_inactive_users_are_not_notified(make_user):
    gone = make_user(email="gone@example.org", is_active=False)
    assert notify(users=[gone], event="x", title="提醒", key="k") == []
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_notify_without_a_key_is_refused(make_user):
    with pytest.raises(DomainError) as exc:
        notify(users=[make_user()], event="x", title="提醒", key="")
    assert exc.value.code == "notification_key_missing"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_service_leaves_no_row_and_sends_no_email(make_user):
    alice = make_user(email="alice@example.org")
    with pytest.raises(_Boom):
        fake_decision_service(recipients=[alice], fail=True)
    assert not Notification.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_committed_service_mails_once_and_marks_emailed_at(make_user):
    alice = make_user(email="alice@example.org")
    fake_decision_service(recipients=[alice], fail=False)
    fake_decision_service(recipients=[alice], fail=False)  # same key: nothing new
    note = Notification.objects.get(recipient=alice)
    assert note.emailed_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.org"]


@pytest.mark.django_db(transaction=True)
def test_mail_is_sent_only_when_the_outermost_transaction_commits(make_user):
    alice = make_user(email="alice@example.org")
    with transaction.atomic():
        notify(users=[alice], event="x", title="提醒", key="outer")
        assert mail.outbox == []  # still inside the caller's transaction
    assert len(mail.outbox) == 1
