"""Issue #17 item 5: removal from the pool asks for confirmation on a page naming what will follow; 返回修改
keeps the ground and the note."""
import re
from html import unescape

import pytest
from django.test import Client

from rpms.registry.models import Planner, PoolStatus

from .factories import pool_member

pytestmark = pytest.mark.django_db


def test_removal_asks_first_and_back_keeps_the_ground_and_note(beijing, haidian, city_admin):
    planner = pool_member(beijing, "丁调出", districts=[haidian])
    client = Client()
    client.force_login(city_admin)
    url = f"/pool/{planner.pk}/remove/"
    typed = {"ground": "other_unsuitable", "note": "连续两年考核不合格"}

    asked = client.post(url, typed)
    page = unescape(asked.content.decode())
    assert asked.status_code == 200 and "请确认" in page and "将丁调出调出资源库" in page
    assert "不能撤销" in page and "个人档案" in page and "没有在任或待到任的派驻" in page
    assert 'name="note" value="连续两年考核不合格"' in page
    assert Planner.objects.get(pk=planner.pk).pool_status == PoolStatus.ACTIVE

    back = client.post(url, {**typed, "confirm": "back"})
    again = unescape(back.content.decode())
    assert back.status_code == 200 and ">连续两年考核不合格</textarea>" in again
    assert re.search(r'<input[^>]*value="other_unsuitable"[^>]*checked', again)
    assert Planner.objects.get(pk=planner.pk).pool_status == PoolStatus.ACTIVE

    done = client.post(url, {**typed, "confirm": "1"})
    assert done.status_code == 302 and Planner.objects.get(pk=planner.pk).pool_status == PoolStatus.REMOVED
