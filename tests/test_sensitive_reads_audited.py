"""Sensitive reads are audited (issue #16 item 4; GB/T 22239-2019 8.1.4.3): every export of personal data and every
download of a private file writes one audit row of its own (actor, object, what, article), sealed in the chain."""
import pytest
from django.test import Client

from rpms.core.audit import ACTION_DOWNLOAD, ACTION_EXPORT, SENSITIVE_READ_ARTICLE
from rpms.core.audit_chain import verify
from rpms.core.models import ActionLog


def _client(user):
    client = Client()
    client.force_login(user)
    return client



@pytest.mark.django_db
def test_exporting_the_pool_writes_an_audit_row(city_admin, beijing):
    from rpms.testing.builders import planner_build

    planner_build(beijing, "导出测试规划师", id_number="110108199003071234", mobile="13912345678")
    before = ActionLog.objects.count()
    response = _client(city_admin).get("/pool/export.xlsx?q=导出")
    assert response.status_code == 200
    assert ActionLog.objects.count() == before + 1
    row = ActionLog.objects.order_by("-id").first()
    assert row.action == ACTION_EXPORT and row.actor_id == city_admin.pk
    assert row.object_type == "registry.planner" and row.city_code == "beijing"
    assert row.article == SENSITIVE_READ_ARTICLE == "GB/T 22239-2019 8.1.4.3"
    assert "资源库" in row.summary and row.after["filters"] == {"q": "导出"}
    assert verify()["ok"]


@pytest.mark.django_db
def test_downloading_a_private_file_writes_an_audit_row(client, bearer, city_admin, beijing, tmp_path, settings):
    from rpms.appointments.models import SignedContract
    from rpms.testing.builders import appointment_build, appointment_sign, planner_build, unit_of

    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    planner = planner_build(beijing, "下载测试规划师")
    appointment = appointment_sign(appointment=appointment_build(unit=unit_of(beijing, "110108001"), planner=planner))
    contract = SignedContract.objects.get(appointment=appointment)
    before = ActionLog.objects.filter(action=ACTION_DOWNLOAD).count()

    response = client.get(f"/api/v1/appointments/{appointment.pk}/signed-contract", **bearer(city_admin))

    assert response.status_code == 200
    assert ActionLog.objects.filter(action=ACTION_DOWNLOAD).count() == before + 1
    row = ActionLog.objects.filter(action=ACTION_DOWNLOAD).order_by("-id").first()
    assert row.actor_id == city_admin.pk and row.actor_repr == city_admin.username
    assert (row.object_type, row.object_id) == ("appointments.signedcontract", str(contract.pk))
    assert row.article == SENSITIVE_READ_ARTICLE and row.city_code == "beijing"
    assert row.after["path"] == contract.path and row.summary.startswith("下载文件：")
    # a refused download writes nothing
    assert client.get(f"/api/v1/appointments/{appointment.pk}/signed-contract").status_code == 401
    assert ActionLog.objects.filter(action=ACTION_DOWNLOAD).count() == before + 1
