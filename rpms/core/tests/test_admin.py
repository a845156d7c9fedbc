import pytest
from django.urls import reverse

from rpms.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(username="root", password="Root-password-123", email="r@example.invalid")


def test_superuser_can_list_and_view_audit_rows(client, superuser, make_log):
    row = make_log(summary="可以查看的记录")
    client.force_login(superuser)
    listing = client.get(reverse("admin:core_actionlog_changelist"))
    assert listing.status_code == 200
    assert "可以查看的记录" in listing.content.decode()
    detail = client.get(reverse("admin:core_actionlog_change", args=[row.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()


def test_nobody_can_add_change_or_delete_audit_rows_in_admin(client, superuser, make_log):
    row = make_log(summary="原文")
    client.force_login(superuser)
    assert client.get(reverse("admin:core_actionlog_add")).status_code == 403
    assert client.get(reverse("admin:core_actionlog_delete", args=[row.pk])).status_code == 403
    client.post(reverse("admin:core_actionlog_change", args=[row.pk]), {"summary": "篡改"})
    row.refresh_from_db()
    assert row.summary == "原文"


def test_admin_offers_no_bulk_actions_on_audit_rows(client, superuser, make_log):
    make_log()
    client.force_login(superuser)
    response = client.get(reverse("admin:core_actionlog_changelist"))
    assert response.context["action_form"] is None
