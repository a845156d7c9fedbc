"""Journeys of the public (issue #7, quality bar): a resident on a phone finds their street, sends a
suggestion and follows it by its tracking code until the planner's reply shows; a member of the public
objects to a candidate on an open notice, and after the window the same form is refused."""
import datetime as dt
import re

import pytest

from rpms.recruitment.models import Objection
from rpms.suggestions.models import Suggestion, SuggestionStatus

from .builders import appoint, notice_with_candidates, pool_member, unit_of
from .conftest import PHONE

pytestmark = [pytest.mark.browser]

STREET_CODE = "110108001"  # 万寿路街道, Haidian
RESIDENT_PHONE = "13912345678"


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_resident_on_a_phone_finds_the_street_sends_a_suggestion_and_follows_the_reply_by_code(
    pages, beijing, city_admin, district_haidian
):
    unit = unit_of(beijing, STREET_CODE)
    planner = pool_member(beijing, "岳晓明", districts=[unit.district], with_account=True)
    appoint(city_admin, planner, unit, filed_by=district_haidian)

    page = pages.open(viewport=PHONE, is_mobile=True, has_touch=True)

    # Find my planner: a partial street name on the public home page.
    page.goto("/")
    assert page.locator("h1").inner_text() == "找到我的责任规划师"
    page.get_by_label("街道 / 镇 / 乡名称").fill("万寿")
    page.get_by_role("button", name="查询").click()
    result = page.locator("li").filter(has_text="万寿路街道")
    assert result.count() == 1
    text = result.inner_text()
    assert "海淀区" in text and unit.name in text and "岳晓明" in text
    assert no_horizontal_scroll(page), "找到我的责任规划师页面在 390 像素宽的手机屏幕上出现横向滚动"

    # The suggestion pages: find the street → its unit → the form.
    page.goto("/suggestions/")
    assert page.locator("h1").inner_text() == "向责任规划师提意见建议"
    page.get_by_label("街道 / 镇 / 乡名称").fill("万寿")
    page.get_by_role("button", name="查找").click()
    result = page.locator("ul.results > li").filter(has_text="万寿路街道")
    assert f"所属责任单元：{unit.name}" in result.inner_text()
    result.get_by_role("link", name="看看大家的意见和答复").click()
    assert page.locator("h1").inner_text() == f"{unit.name} · 居民意见建议"
    assert "还没有公开的意见建议" in page.locator("main").inner_text()
    page.get_by_role("link", name="我要提意见建议").click()
    assert page.locator("h1").inner_text() == "提意见建议"
    assert "（万寿路街道）" in page.locator(".page-header").inner_text()
    assert no_horizontal_scroll(page), "意见建议表单在 390 像素宽的手机屏幕上出现横向滚动"

    page.get_by_label("问题反映").check()
    page.get_by_label("内容").fill("万寿路西街人行道路灯损坏，夜间通行不便，建议尽快修复。")
    page.get_by_label("联系人（可选）").fill("王居民")
    page.get_by_label("手机号码（可选）").fill(RESIDENT_PHONE)
    page.get_by_role("button", name="提交").click()

    # The thank-you page gives the tracking code.
    assert page.locator("h1").inner_text() == "提交成功，谢谢您！"
    card = page.locator("main .card").first.inner_text()
    match = re.search(r"您的查询码：\s*([A-Z0-9]{6,20})", card)
    assert match, card
    code = match.group(1)
    suggestion = Suggestion.objects.get()
    assert suggestion.tracking_code == code and suggestion.unit_id == unit.pk
    assert suggestion.subdistrict.code == STREET_CODE and suggestion.contact_phone == RESIDENT_PHONE

    page.get_by_role("link", name="查看办理进度").click()
    assert page.locator("h1").inner_text() == "查询办理进度"
    body = page.locator("main").inner_text()
    assert code in body and "已受理，待答复" in body and "尚未答复" in body
    assert "万寿路西街人行道路灯损坏" in body
    assert RESIDENT_PHONE not in page.content()

    # The planner replies (server side, through the service) …
    from rpms.suggestions.services import suggestion_reply

    suggestion_reply(actor=planner.user, suggestion=suggestion, text="已联系市政部门，路灯将于本周内修复，感谢您的反映。")

    # … and the resident, coming back later with the code, sees the reply.
    page.goto("/suggestions/track/")
    page.get_by_label("查询码").fill(code.lower())
    page.get_by_role("button", name="查询").click()
    body = page.locator("main").inner_text()
    assert "已答复" in body
    assert "责任规划师 岳晓明" in body and "路灯将于本周内修复" in body
    assert RESIDENT_PHONE not in page.content()
    assert Suggestion.objects.get().status == SuggestionStatus.ANSWERED
    assert no_horizontal_scroll(page), "查询办理进度页面在 390 像素宽的手机屏幕上出现横向滚动"


# An ordinary week in Beijing: the five working days of the notice are Monday 2 to Friday 6 November 2026.
NOTICE_START = dt.date(2026, 11, 2)


def test_a_member_of_the_public_objects_to_a_candidate_and_is_refused_after_the_window(
    pages, clock, beijing, city_admin
):
    clock.set(NOTICE_START)
    notice, applications = notice_with_candidates(city_admin, beijing, start=NOTICE_START, names=["孙测试", "周测试"])
    target = applications["周测试"]

    page = pages.open()
    page.goto("/recruitment/")
    page.get_by_role("link", name=notice.title).first.click()
    assert page.locator("h1").inner_text() == notice.title
    body = page.locator("main").inner_text()
    assert "公示中" in body and "孙测试" in body and "周测试" in body
    assert f"{notice.end:%Y-%m-%d}" in body

    page.get_by_label("被反映人选").select_option(str(target.pk))
    page.get_by_label("反映内容").fill("该人选申报的工作年限与实际情况不符，请核查。")
    page.get_by_label("联系人", exact=True).fill("吴先生")
    page.get_by_label("联系电话").fill("13700000000")
    page.get_by_role("button", name="提交异议").click()

    confirmation = page.locator(".messages .alert.success")
    assert "您的意见已收到" in confirmation.inner_text()
    assert "13700000000" not in page.content()
    objection = Objection.objects.get()
    assert objection.entry.application_id == target.pk and objection.contact_name == "吴先生"

    # The window ends; the form still open in the browser is refused with the reason, in Chinese.
    after = notice.end + dt.timedelta(days=1)
    clock.set(after)
    page.get_by_label("被反映人选").select_option(str(target.pk))
    page.get_by_label("反映内容").fill("再次反映：工作年限不实。")
    page.get_by_label("联系人", exact=True).fill("吴先生")
    page.get_by_label("联系电话").fill("13700000000")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="提交异议").click()
    assert navigation.value.status == 409
    error = page.locator(".alert.error")
    assert error.inner_text() == f"公示期已于 {notice.end:%Y-%m-%d} 结束，不再受理异议。"
    assert page.get_by_role("button", name="提交异议").count() == 0
    assert "不再受理异议" in page.locator("main").inner_text()
    assert Objection.objects.count() == 1
