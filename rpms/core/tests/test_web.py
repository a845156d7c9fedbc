"""core.web (acting from a page) and core.inputs (coercers): a refusal re-renders with what was typed and
the refusal's status, or is flashed on the page the user came from; 403/404 are not shown beside a form;
coercers refuse in Chinese."""
import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import path

from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.inputs import (
    choice_value,
    clean_or_refuse,
    date_value,
    decimal_value,
    int_or_none,
    int_value,
    text_value,
)
from rpms.core.web import Submission, act, attempt, render_refusal, submit, typed


def _post(data=None):
    request = RequestFactory().post("/somewhere/", data or {})
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _flashed(request):
    return [(m.level_tag, m.message) for m in get_messages(request)]


def _refuse(exc):
    def call():
        raise exc
    return call


def test_submit_accepted_flashes_and_redirects_by_result():
    request = _post()
    sent = submit(request, lambda: 7, success=lambda n: f"已保存第 {n} 条。", redirect_to=lambda n: f"/records/{n}/")
    assert sent.response.status_code == 302 and sent.response.url == "/records/7/"
    assert sent.result == 7 and sent.error == "" and sent.status == 200
    assert _flashed(request) == [("success", "已保存第 7 条。")]


@pytest.mark.parametrize("exc, status", [(DomainError("标题不能为空。"), 400), (Conflict("已有相同的记录。"), 409),
                                         (DomainError("上传过大。", status=413), 413)])
def test_submit_refused_keeps_message_and_status(exc, status):
    request = _post()
    sent = submit(request, _refuse(exc), success="不应出现", redirect_to="/x/")
    assert sent.response is None and sent.error == exc.message and sent.status == status and sent.exc is exc
    assert _flashed(request) == []


@pytest.mark.parametrize("exc", [NotFound(), Forbidden()])
def test_403_404_propagate_unless_asked(exc):
    with pytest.raises(type(exc)):
        submit(_post(), _refuse(exc), success="", redirect_to="/x/")
    with pytest.raises(type(exc)):
        act(_post(), _refuse(exc), success="", redirect_to="/x/")
    sent = submit(_post(), _refuse(exc), success="", redirect_to="/x/", forbidden_too=True)
    assert sent.status == exc.status and sent.error == exc.message


def _record_page(request, pk):
    return HttpResponse(f"记录 {pk} 的页面（{request.method}，{request.path}）")


urlpatterns = [path("records/<int:pk>/", _record_page)]


@pytest.mark.urls(__name__)
def test_act_refusal_shows_the_page_of_the_form_again():
    # issue #17 item 4: not a redirect — the page the form is on, at once, with the reason and the status
    request = _post()
    response = act(request, _refuse(DomainError("该记录已锁定，不能删除。")), success="已删除。",
                   redirect_to="/records/", refused_to="/records/5/")
    assert response.status_code == 400 and response.content.decode() == "记录 5 的页面（GET，/records/5/）"
    assert _flashed(request) == [("error", "该记录已锁定，不能删除。")]
    request = _post()
    response = act(request, _refuse(Conflict("不能撤回。")), success="已撤回。", redirect_to="/records/5/")
    assert response.status_code == 409 and _flashed(request) == [("error", "不能撤回。")]
    request = _post()  # a page that is not this site's: the message on the home page
    response = act(request, _refuse(DomainError("不能撤回。")), success="已撤回。", redirect_to="/nowhere/")
    assert response.status_code == 302 and response.url == "/" and _flashed(request) == [("error", "不能撤回。")]


def test_act_refusal_rerenders_the_form_with_what_was_typed():
    request = _post({"title": "  社区花园改造  ", "hours": "abc"})
    form = typed(request.POST, ("title", "hours", "absent"))
    assert form == {"title": "社区花园改造", "hours": "abc", "absent": ""}

    def rerender(exc):
        return HttpResponse(f"{form['title']}|{form['hours']}|{exc.message}", status=exc.status)

    response = act(request, _refuse(DomainError("学时应为数字。")), success="已保存。", redirect_to="/x/",
                   on_refusal=rerender)
    assert response.status_code == 400
    assert response.content.decode() == "社区花园改造|abc|学时应为数字。"
    assert _flashed(request) == []


def test_render_refusal_puts_the_message_and_status_on_the_page(rf):
    request = rf.get("/")
    response = render_refusal(request, "400.html", {"message": "原页面"}, Conflict("该申请已被处理。"),
                              error_key="message")
    assert response.status_code == 409 and "该申请已被处理。" in response.content.decode()


def test_submission_defaults_show_a_clean_form():
    sent = Submission()
    assert sent.error == "" and sent.status == 200 and sent.response is None


def test_coercers_refuse_in_chinese():
    assert date_value(" 2026-03-01 ") == dt.date(2026, 3, 1)
    assert date_value("", required=False) is None
    with pytest.raises(DomainError, match="^日期格式不正确，应为 YYYY-MM-DD。$"):
        date_value("2026/03/01")
    with pytest.raises(DomainError, match="^报名截止日期格式不正确"):
        date_value(None, label="报名截止日期")
    with pytest.raises(DomainError, match="^发布日期格式应为 YYYY-MM-DD。$"):
        date_value("明天", required=False, message="发布日期格式应为 YYYY-MM-DD。")
    assert text_value("  意见  ", label="意见") == "意见"
    with pytest.raises(DomainError, match="^请填写答复内容。$"):
        text_value("   ", label="答复内容", required=True)
    with pytest.raises(DomainError, match="^标题不能超过 5 个字。$"):
        text_value("一二三四五六", label="标题", max_length=5)
    assert int_value("12", label="学时 ", minimum=1, maximum=100) == 12
    with pytest.raises(DomainError, match="^学时 应为1 至 100 之间的整数。$"):
        int_value("1000", label="学时 ", minimum=1, maximum=100)
    assert decimal_value("2.5", label="学时") == Decimal("2.5")
    with pytest.raises(DomainError, match="^学时应为数字。$"):
        decimal_value("两小时", label="学时")
    with pytest.raises(DomainError, match="^学时应为数字。$"):
        decimal_value("NaN", label="学时")
    with pytest.raises(DomainError, match="^金额应不小于 0。$"):
        decimal_value("-1", label="金额", minimum=Decimal("0"))
    with pytest.raises(DomainError, match="^请填写金额。$"):
        decimal_value("", label="金额")
    assert choice_value("open", label="类型", choices=[("open", "公开"), ("closed", "定向")]) == "open"
    with pytest.raises(DomainError, match="^请选择类型。$"):
        choice_value("", label="类型", choices=["open"])
    with pytest.raises(DomainError, match="^类型“secret”不是可选的值。$"):
        choice_value("secret", label="类型", choices=["open"])
    assert int_or_none("42") == 42 and int_or_none("abc") is None and int_or_none("") is None and int_or_none(None) is None


@pytest.mark.django_db
def test_clean_or_refuse_names_the_field_in_chinese(beijing):
    from rpms.geography.models import District

    district = District(city=beijing, code="", name="")
    with pytest.raises(DomainError) as caught:
        clean_or_refuse(district)
    assert caught.value.code == "invalid_field" and caught.value.status == 400
    assert District._meta.get_field("name").verbose_name in caught.value.message


def test_attempt_holds_the_result_or_the_refusal_without_redirecting():
    from rpms.core.web import attempt

    request = _post()
    sent = attempt(request, lambda: "ok", success="已办理。")
    assert sent.accepted and sent.result == "ok" and sent.response is None
    assert _flashed(request) == [("success", "已办理。")]
    request = _post()
    sent = attempt(request, _refuse(Conflict("已办理过。", details={"id": 3})), success="已办理。")
    assert not sent.accepted and sent.status == 409 and sent.error == "已办理过。" and sent.details == {"id": 3}
    assert _flashed(request) == []


@pytest.mark.urls(__name__)
def test_propagate_names_the_errors_that_go_to_the_error_page():
    # (NotFound,): a 403 is shown beside the form, a 404 still goes to the error page.
    sent = attempt(_post(), _refuse(Forbidden("您的角色无权登记。")), propagate=(NotFound,))
    assert sent.status == 403 and sent.error == "您的角色无权登记。" and not sent.accepted
    with pytest.raises(NotFound):
        submit(_post(), _refuse(NotFound()), success="", redirect_to="/x/", propagate=(NotFound,))
    # (): nothing propagates (reading a query string: every refusal is shown on the page).
    sent = attempt(_post(), _refuse(NotFound("没有该城市。")), propagate=())
    assert sent.status == 404 and sent.error == "没有该城市。"
    request = _post()
    response = act(request, _refuse(Forbidden("不能撤回。")), success="", redirect_to="/records/7/", propagate=())
    assert response.status_code == 403 and "记录 7" in response.content.decode()
    assert _flashed(request) == [("error", "不能撤回。")]
    with pytest.raises(Forbidden):
        act(_post(), _refuse(Forbidden()), success="", redirect_to="/r/", propagate=(Forbidden,))
    # an accepted read holds its value and flashes nothing
    request = _post()
    sent = attempt(request, lambda: {"year": 2024}, propagate=())
    assert sent.accepted and sent.result == {"year": 2024} and _flashed(request) == []
