"""Issue #17 item 5: issuing an opinion asks for confirmation on a page that says what will follow."""
from html import unescape

from rpms.opinions.models import OpinionStatus, WrittenOpinion


def test_issuing_asks_first_and_only_the_confirmed_post_issues(world, login, make_draft):
    opinion = make_draft(world)
    client = login(world.author)
    client.post(f"/opinions/{opinion.pk}/declaration/", {"has_conflict": "0"})
    url = f"/opinions/{opinion.pk}/issue/"

    asked = client.post(url)
    page = unescape(asked.content.decode())
    assert asked.status_code == 200 and "请确认" in page
    assert "内容即冻结" in page and "不能再修改、撤回或删除" in page and "核验码" in page and "送达聘任主体" in page
    assert 'name="confirm" value="1"' in page and "返回修改" in page
    assert WrittenOpinion.objects.get(pk=opinion.pk).status == OpinionStatus.DRAFT

    back = client.post(url, {"confirm": "back"})
    assert back.status_code == 200 and "出具书面意见" in back.content.decode()
    assert WrittenOpinion.objects.get(pk=opinion.pk).status == OpinionStatus.DRAFT

    issued = client.post(url, {"confirm": "1"})
    assert issued.status_code == 302
    assert WrittenOpinion.objects.get(pk=opinion.pk).status == OpinionStatus.ISSUED
