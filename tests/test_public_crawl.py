"""Issue #7 acceptance: a crawl of every public page and dataset, as an anonymous visitor, finds no full ID
number or mobile and no non-public record.

The data holds known identifiers (planners' ID numbers and mobiles, a resident's and an objector's phone)
and non-public records with unique markers (an unfiled appointment, a draft announcement, a case under
review, a hidden suggestion, a draft interpretation). The crawler starts from the public entry points and
every public dataset, follows every internal link it is given, and reads every HTML, JSON and CSV answer."""
import datetime as dt
import re
from collections import deque

import pytest

from rpms.registry.models import Planner
from tests.browser import builders

pytestmark = pytest.mark.django_db

ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE_LIKE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
START = ["/", "/find/?q=万寿", "/find/?q=海淀", "/recruitment/", "/info/", "/info/map/", "/info/map/110108/",
         "/info/announcements/", "/info/policies/", "/info/policies/beijing/", "/info/open-data/", "/suggestions/",
         "/suggestions/?q=万寿", "/cases/", "/appointments/public/", "/assessments/honours/", "/verify/",
         "/api/v1/public/datasets", "/api/v1/cities", "/api/v1/cities/beijing/calls", "/api/v1/cities/beijing/coverage"]
SKIP = ("/admin/", "/accounts/", "/static/", "/api/v1/docs", "/api/v1/openapi", "/inbox/")
MARKERS = ["未备案规划师标记", "草稿公告标记", "待审案例标记", "应隐藏内容标记", "草稿解读标记"]


@pytest.fixture
def world(beijing, city_admin, district_haidian, haidian, clock):
    from rpms.cases.services import case_submit
    from rpms.publicinfo.services import announcement_create, announcement_publish, interpretation_create
    from rpms.recruitment.services import objection_submit
    from rpms.suggestions.services import suggestion_hide, suggestion_reply, suggestion_submit

    # The whole world is built and crawled on Monday 23 November 2026, the first day of the notice (a week
    # of five working days), so that the notice is open and everybody appointed serves on that day.
    monday = dt.date(2026, 11, 23)
    clock.set(monday)
    wanshou = builders.unit_of(beijing, "110108001")
    others = [u for u in builders.units_of(haidian, 4) if u.pk != wanshou.pk]
    shown = builders.pool_member(beijing, "公开规划师", districts=[haidian], with_account=True)
    hidden = builders.pool_member(beijing, "未备案规划师标记", districts=[haidian])
    identifiers = {}
    for i, planner in enumerate([shown, hidden], start=1):
        id_number, mobile = builders.fictional_id_number(700 + i), f"1370000000{i}"
        Planner.objects.filter(pk=planner.pk).update(id_number=id_number, mobile=mobile)
        identifiers[planner.name] = (id_number, mobile)
    builders.appoint(city_admin, shown, wanshou, filed_by=district_haidian)
    builders.appoint(city_admin, hidden, others[0])  # not filed: not public (B19(3), B19(7))

    resident_phone = "13612345678"
    visible = suggestion_submit(actor=None, unit=wanshou, category="suggestion", content="小区门口人行道破损，建议修缮。",
                                contact_name="居民张女士", contact_phone=resident_phone)
    suggestion_reply(actor=shown.user, suggestion=visible, text="已联系街道，两周内修缮。")
    rude = suggestion_submit(actor=None, unit=wanshou, category="problem", content="应隐藏内容标记",
                             contact_phone="13612345679")
    suggestion_hide(actor=city_admin, suggestion=rude, reason="含不当言论")

    notice, applications = builders.notice_with_candidates(city_admin, beijing, start=monday, names=["公示候选人"])
    objection_submit(notice=notice, application_id=applications["公示候选人"].pk, content="反映该候选人资历情况。",
                     contact_name="异议人", contact_phone="13512345678")

    draft = announcement_create(actor=city_admin, city=beijing, kind="other", title="草稿公告标记", body="尚未发布。")
    published = announcement_create(actor=city_admin, city=beijing, kind="other", title="已发布公告", body="公告正文。")
    announcement_publish(actor=city_admin, announcement=published)
    interpretation_create(actor=city_admin, city=beijing, title="草稿解读标记", body="尚未发布的解读。", articles=["B19"])
    case_submit(actor=shown.user, unit=wanshou, title="待审案例标记", duty_category=beijing.policy.duty_categories[0]["code"],
                summary="以居民需求为导向推进社区公共空间微更新的实践。",
                body="本案例记录责任规划师在万寿路街道开展社区公共空间微更新的全过程，包括需求调查、方案讨论、居民议事、实施和后评估，形成了可复制的工作方法。" * 2)
    phones = [resident_phone, "13612345679", "13512345678"]
    for application in applications.values():
        phones.append(application.mobile)
        identifiers[application.name] = (application.id_number, application.mobile)
    return {"identifiers": identifiers, "phones": phones, "draft": draft}


def crawl(client, limit=500):
    seen, queue, pages = set(), deque(START), {}
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen or url.startswith(SKIP):
            continue
        seen.add(url)
        response = client.get(url)
        kind = response.get("Content-Type", "")
        if response.status_code != 200 or not any(t in kind for t in ("html", "json", "csv", "text")):
            continue
        body = response.content.decode("utf-8", errors="replace")
        if "json" in kind:
            import json

            body = json.dumps(response.json(), ensure_ascii=False)  # read escaped Chinese as text
        pages[url] = body
        for link in re.findall(r'(?:href|action)="(/[^"#]*)"', body) + re.findall(r'"(/api/v1/public/[^"\s]*)"', body):
            link = link.replace("&amp;", "&")
            if link not in seen and not link.startswith(SKIP):
                queue.append(link)
    return pages


def report(label: str, pages: dict, problems: list) -> str:
    """The crawl's counts (issue #16 item 9), printed (pytest -s) and put in the assertion message."""
    line = f"{label}: pages crawled {len(pages)}, findings {len(problems)}"
    print(f"\n{line}")
    return line + ("\n" + "\n".join(problems[:50]) if problems else "")


def test_no_public_page_or_dataset_shows_an_identifier_or_a_non_public_record(anon, world):
    pages = crawl(anon)
    assert len(pages) > 40, sorted(pages)
    assert any("/api/v1/public/" in url and url.endswith(".csv") for url in pages), "the datasets were crawled"
    assert any("公开规划师" in body for body in pages.values()), "the filed appointment is public"
    problems = []
    for url, body in pages.items():
        for name, (id_number, mobile) in world["identifiers"].items():
            if id_number in body or mobile in body:
                problems.append(f"{url}: {name} 的身份证号或手机号")
        for phone in world["phones"]:
            if phone in body:
                problems.append(f"{url}: 联系电话 {phone}")
        for marker in MARKERS:
            if marker in body:
                problems.append(f"{url}: 非公开记录 {marker}")
        for pattern, label in ((ID_LIKE, "疑似身份证号"), (MOBILE_LIKE, "疑似手机号")):
            for found in pattern.findall(body):
                problems.append(f"{url}: {label} {found}")
    assert problems == [], report("公开页面巡检（public crawl）", pages, problems)
    report("公开页面巡检（public crawl）", pages, problems)
    assert f"/info/announcements/{world['draft'].pk}/" not in pages or "草稿公告标记" not in pages[f"/info/announcements/{world['draft'].pk}/"]


# --- issue #12 item 1: personal data typed into public forms is masked everywhere (PIPL art. 28–29) -------

TYPED = {
    "id_number": "110108199003071234",
    "id_valid": "110108199003071238",  # with its valid check digit (GB 11643)
    "id_number_x": "41040219850312123X",
    "id_spaced": "110108 19900307 5678",
    "mobile": "13698765432",
    "mobile_spaced": "+86 139-8765-4321",
    "landline": "010-62345678",
    "landline_pds": "(0375)2876543",
    "email": "wang.resident@example.com",
    "email_qq": "12345678@qq.com",
}


def typed_text(label: str) -> str:
    v = TYPED
    return (f"{label}：我的身份证号{v['id_number']}（新证 {v['id_valid']}），老伴的是{v['id_number_x']}（也可写作 {v['id_spaced']}），"
            f"手机 {v['mobile']}，另一个 {v['mobile_spaced']}，座机 {v['landline']}，平顶山的 {v['landline_pds']}，"
            f"邮箱 {v['email']} 或 {v['email_qq']}。")


def variants(value: str) -> set[str]:
    """The raw string and its digit-only form (and without a country code), as a crawler would search."""
    digits = "".join(ch for ch in value if ch.isdigit() or ch in "Xx")
    found = {value, digits}
    if digits.startswith("86") and len(digits) == 13:
        found.add(digits[2:])
    if "@" in value:
        found.add(value.split("@")[0] + "@")
    return {f for f in found if len(f) >= 7}


def _csrf(client, url):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(url).content.decode()).group(1)


@pytest.fixture
def typed_world(world, beijing, city_admin, monkeypatch):
    """Residents type identity numbers, phones and e-mail addresses into every public form (the suggestion
    form and API, the objection form and API, the registration form and an application); the staff answer
    quoting them, and publish an announcement, an interpretation, a case and an objection finding that quote
    them too."""
    from django.test import Client

    from rpms.cases.services import case_review, case_submit
    from rpms.publicinfo.services import (
        announcement_create,
        announcement_publish,
        interpretation_create,
        interpretation_publish,
    )
    from rpms.recruitment.models import Objection, PublicNotice
    from rpms.recruitment.services import objection_resolve
    from rpms.suggestions.models import Suggestion
    from rpms.suggestions.services import suggestion_reply

    wanshou = builders.unit_of(beijing, "110108001")
    resident = Client(enforce_csrf_checks=True)
    url = f"/suggestions/units/{wanshou.pk}/new/?street=110108001"
    assert resident.post(url, {"csrfmiddlewaretoken": _csrf(resident, url), "street": "110108001", "category": "problem",
                               "content": typed_text("网页意见建议")}).status_code == 302
    response = Client().post(f"/api/v1/public/units/{wanshou.pk}/suggestions",
                             data={"category": "suggestion", "content": typed_text("接口意见建议")}, content_type="application/json")
    assert response.status_code == 201
    planner_user = Planner.objects.get(name="公开规划师").user
    for suggestion in Suggestion.objects.filter(content__contains="身份证号"):
        suggestion_reply(actor=planner_user, suggestion=suggestion, text=f"已收到。{typed_text('答复引用')}")

    notice = PublicNotice.objects.order_by("-pk").first()
    candidate = notice.entries.first().application
    url = f"/recruitment/notices/{notice.pk}/"
    response = resident.post(f"/recruitment/notices/{notice.pk}/objections/", {
        "csrfmiddlewaretoken": _csrf(resident, url), "application": candidate.pk,
        "content": typed_text("网页异议"), "contact_name": "异议居民", "contact_phone": TYPED["mobile"]})
    assert response.status_code == 302
    response = Client().post(f"/api/v1/notices/{notice.pk}/objections", data={
        "application": candidate.pk, "content": typed_text("接口异议"), "contact_name": "异议居民乙",
        "contact_phone": TYPED["landline"]}, content_type="application/json")
    assert response.status_code == 201, response.content
    for objection in Objection.objects.filter(content__contains="身份证号"):
        objection_resolve(actor=city_admin, objection=objection, upheld=False, finding=f"经核查不属实。{typed_text('核查结果引用')}")

    announcement = announcement_create(actor=city_admin, city=beijing, kind="other", title=f"关于来电 {TYPED['mobile']} 的说明",
                                       body=typed_text("公告正文"))
    announcement_publish(actor=city_admin, announcement=announcement)
    case = case_submit(actor=planner_user, unit=wanshou, title=f"微更新案例（联系 {TYPED['landline']}）",
                       duty_category=beijing.policy.duty_categories[0]["code"], summary=typed_text("案例摘要")[:290],
                       body=typed_text("案例正文") * 3)
    case_review(actor=city_admin, case=case, decision="publish")
    interpretation = interpretation_create(actor=city_admin, city=beijing, title="关于来电登记的解读",
                                           body=typed_text("解读正文"), articles=["B19"])
    interpretation_publish(actor=city_admin, interpretation=interpretation)

    # An applicant registers (mobile and e-mail in the form's own fields, identity data in the name) and applies.
    url = "/accounts/register/"
    response = resident.post(url, {"csrfmiddlewaretoken": _csrf(resident, url), "username": "typed_applicant",
                                   "display_name": f"申请人{TYPED['id_valid']}", "mobile": TYPED["mobile"],
                                   "email": TYPED["email"], "city": beijing.code, "password1": "Typed-pass-2026!",
                                   "password2": "Typed-pass-2026!"})
    assert response.status_code == 302, response.content.decode()[:2000]
    person = builders.beijing_application_data("登记申请人", 990)
    person.update(id_number=TYPED["id_valid"], mobile=TYPED["mobile"], email=TYPED["email"],
                  employer=f"示例设计院（联系人手机 {TYPED['mobile']}）")
    response = resident.post(f"/api/v1/calls/{notice.call_id}/applications", data=person, content_type="application/json",
                             HTTP_X_CSRFTOKEN=resident.cookies["csrftoken"].value)  # the session's own page would send it
    assert response.status_code == 201, response.content.decode()[:2000]
    return world


def test_personal_data_typed_into_public_forms_appears_masked_on_every_public_page_answer_and_dataset(anon, typed_world):
    pages = crawl(anon)
    bodies = "\n".join(pages.values())
    # The typed text is public (masked), so the crawl really read the surfaces that show it.
    for surface in ("网页意见建议", "接口意见建议", "答复引用", "核查结果引用", "公告正文", "案例正文", "解读正文"):
        assert any(surface in body for body in pages.values()), surface
    assert "136****5432" in bodies and "w***@example.com" in bodies and "110***********1234" in bodies
    problems = []
    for url, body in pages.items():
        digits_only = "".join(ch for ch in body if ch.isdigit() or ch in "Xx")
        for name, value in TYPED.items():
            for variant in variants(value):
                if variant in body:
                    problems.append(f"{url}: {name} {variant}")
                elif variant.isdigit() and len(variant) >= 11 and variant in digits_only:
                    problems.append(f"{url}: {name} {variant}（去掉分隔符后）")
        for pattern, label in ((ID_LIKE, "疑似身份证号"), (MOBILE_LIKE, "疑似手机号")):
            for found in pattern.findall(body):
                problems.append(f"{url}: {label} {found}")
    message = report("填入个人信息后的公开页面巡检（public crawl after typed personal data）", pages, problems)
    assert problems == [], message
