"""Issue #17 item 5: a public reply asks for confirmation on a page that says what will follow; 返回修改 keeps
the reply typed."""
from html import unescape

from rpms.suggestions.models import SuggestionReply

from .conftest import submit


def test_a_public_reply_asks_first_and_back_keeps_the_text(clock, bj_unit, bj_planner, login):
    suggestion = submit(bj_unit)
    client = login(bj_planner.user)
    url = f"/suggestions/manage/{suggestion.pk}/reply/"
    typed = "已联系物业，本周内更换路灯。"

    asked = client.post(url, {"text": typed})
    page = unescape(asked.content.decode())
    assert asked.status_code == 200 and "请确认" in page
    assert "公开页面显示" in page and "不能修改或撤回" in page and suggestion.tracking_code in page
    assert f'name="text" value="{typed}"' in page  # carried in a hidden field
    assert not SuggestionReply.objects.exists()

    back = client.post(url, {"text": typed, "confirm": "back"})
    again = unescape(back.content.decode())
    assert back.status_code == 200 and f">{typed}</textarea>" in again
    assert not SuggestionReply.objects.exists()

    done = client.post(url, {"text": typed, "confirm": "1"})
    assert done.status_code == 302 and SuggestionReply.objects.get().text == typed


def test_a_reply_too_short_is_refused_at_once(clock, bj_unit, bj_planner, login):
    suggestion = submit(bj_unit)
    response = login(bj_planner.user).post(f"/suggestions/manage/{suggestion.pk}/reply/", {"text": "好"})
    assert response.status_code == 400 and "请确认" not in response.content.decode()
    assert not SuggestionReply.objects.exists()
