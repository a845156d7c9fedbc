"""rpms.workdays.hooks: apps whose deadlines were computed on a year's former schedule are told, inside
the same transaction, when it is entered, replaced or removed; what they changed reaches the page."""
import pytest

from rpms.workdays import hooks
from rpms.workdays.hooks import ScheduleEffect
from rpms.workdays.models import CalendarYear
from rpms.workdays.services import calendar_year_delete, calendar_year_enter

from .notices import NOTICE_2027_INVENTED

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard(monkeypatch):
    calls = []

    def listener(*, actor, year, reason):
        calls.append((actor, year, reason))
        return [ScheduleEffect(title=f"期限 {len(calls)}", detail="原 A，现 B", url="/x/")]

    monkeypatch.setattr(hooks, "SCHEDULE_CHANGED_LISTENERS", [listener])
    return calls


def test_entering_replacing_and_removing_a_year_tell_the_listeners(city_admin, heard):
    entered = calendar_year_enter(actor=city_admin, year=2027, source="测试用通知（虚构）", notice_text=NOTICE_2027_INVENTED)
    assert heard == [(city_admin, 2027, "录入 2027 年节假日安排（测试用通知（虚构））")]
    assert entered.effects == [ScheduleEffect(title="期限 1", detail="原 A，现 B", url="/x/")]
    calendar_year_enter(actor=city_admin, year=2027, source="更正", notice_text=NOTICE_2027_INVENTED)
    assert heard[-1][2] == "重新录入 2027 年节假日安排（更正）"
    effects = calendar_year_delete(actor=city_admin, year=2027)
    assert heard[-1][1:] == (2027, "删除录入的 2027 年节假日安排（2027 年节假日安排（更正））")
    assert [e.title for e in effects] == ["期限 3"]


def test_a_failing_listener_leaves_the_schedule_unsaved(city_admin, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("listener failed")

    monkeypatch.setattr(hooks, "SCHEDULE_CHANGED_LISTENERS", [broken])
    with pytest.raises(RuntimeError):
        calendar_year_enter(actor=city_admin, year=2027, source="测试", notice_text=NOTICE_2027_INVENTED)
    assert not CalendarYear.objects.exists()


def test_the_entry_page_lists_what_was_recomputed(client, city_admin, heard):
    client.force_login(city_admin)
    response = client.post(
        "/workdays/enter/",
        {"year": "2027", "source": "测试", "notice_text": NOTICE_2027_INVENTED, "action": "confirm"},
        follow=True,
    )
    page = response.content.decode()
    assert response.status_code == 200 and "按新的节假日安排重新计算了 1 项期限" in page and "期限 1：原 A，现 B" in page
    response = client.post("/workdays/2027/delete/", follow=True)
    assert "期限 2：原 A，现 B" in response.content.decode()
