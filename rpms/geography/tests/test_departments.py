"""The department directory: kept in the admin, every save audited, never deleted."""
import pytest
from django.test import Client

from rpms.core.models import ActionLog
from rpms.geography.models import Department

pytestmark = pytest.mark.django_db


def test_saving_a_department_in_the_admin_is_audited_and_deleting_is_not_offered(beijing, haidian):
    from rpms.accounts.models import User

    admin_user = User.objects.create_superuser("root_dept", password="Rpms-test-2026!x")
    client = Client()
    client.force_login(admin_user)
    response = client.post("/admin/geography/department/add/", {
        "city": beijing.pk, "district": haidian.pk, "name": "海淀区城市管理委员会（测试）", "contact": "", "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:500]
    department = Department.objects.get(name="海淀区城市管理委员会（测试）")
    row = ActionLog.objects.get(action="geography.department_save", object_id=str(department.pk))
    assert row.city_code == "beijing" and row.before is None
    assert client.get(f"/admin/geography/department/{department.pk}/delete/").status_code == 403
