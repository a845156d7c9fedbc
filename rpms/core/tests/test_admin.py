import pytest
from django.urls import reverse

from rpms.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(username="root", password="Root-password-123", email="r@example.invalid")


def test_the_superuser_cannot_list_or_view_audit_rows_in_the_admin(client, superuser, make_log):
    """Issue #16 item 2: the superuser is for installation only; the audit administrator reads the trail in the
    application (/audit/)."""
    row = make_log(summary="不可查看的记录")
    client.force_login(superuser)
    listing = client.get(reverse("admin:core_actionlog_changelist"))
    assert listing.status_code == 403
    assert client.get(reverse("admin:core_actionlog_change", args=[row.pk])).status_code == 403
    assert "core/actionlog" not in client.get(reverse("admin:index")).content.decode()


def test_nobody_can_add_change_or_delete_audit_rows_in_admin(client, superuser, make_log):
    row = make_log(summary="原文")
    client.force_login(superuser)
    assert client.get(reverse("admin:core_actionlog_add")).status_code == 403
    assert client.get(reverse("admin:core_actionlog_delete", args=[row.pk])).status_code == 403
    client.post(reverse("admin:core_actionlog_change", args=[row.pk]), {"summary": "篡改"})
    row.refresh_from_db()
    assert row.summary == "原文"


def test_even_the_view_permission_does_not_open_audit_rows_in_the_admin(client, make_log):
    from django.contrib.auth.models import Permission

    from rpms.accounts.models import User

    staff = User.objects.create_user(username="staff_viewer", password="Pw-for-tests-123", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_actionlog"))
    make_log()
    client.force_login(staff)
    assert client.get(reverse("admin:core_actionlog_changelist")).status_code == 403
