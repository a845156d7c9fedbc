"""One front door for the public datasets (issue #14 item 8): the appointments' open data is served by
rpms.publicinfo.opendata like every other dataset, with its URLs, JSON keys, source line and file name kept."""
import pytest

from rpms.publicinfo import opendata

pytestmark = pytest.mark.django_db


def test_the_appointments_dataset_keeps_its_shape_through_the_one_front_door(anon, pingdingshan):
    assert opendata.dataset_get("appointments").rows is opendata.appointment_rows
    data = anon.get("/api/v1/public/appointments.json", {"city": "pingdingshan"}).json()
    assert {"fields", "rows", "generated_at", "source"} <= set(data)
    assert data["source"] == "责任规划师管理信息系统（已备案并公开的聘任信息，平顶山市，依据 P5(2)）"
    assert "各城市依据本市关于聘用信息公开的规定" in anon.get("/api/v1/public/appointments.json").json()["source"]
    assert anon.get("/api/v1/public/appointments/fields").json()["fields"] == data["fields"]
    response = anon.get("/api/v1/public/appointments.csv")
    assert response["Content-Disposition"] == (
        "attachment; filename=\"appointments.csv\"; "
        "filename*=UTF-8''%E8%B4%A3%E4%BB%BB%E8%A7%84%E5%88%92%E5%B8%88%E8%81%98%E4%BB%BB.csv")
