"""Policy documents (政策文件解读): the rule books parsed into articles and items, their public pages with
an anchor for every article and item, interpretations beside the articles they explain, and the
`article_link` tag that links a step's article to its anchor."""
import re

import pytest
from django.template import Context, Template

from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.publicinfo import policies, services
from rpms.publicinfo.models import PublicationStatus

B19_3 = ("由聘任主体与责任规划师签订聘用合同,并报送区级责任规划师工作专班。聘用合同应明确责任规划师的服务内容、"
         "责任权利、服务方式、服务时间,并根据工作内容确定酬劳。")


def _doc(city_code, prefix):
    text = policies.rulebook_path(city_code).read_text(encoding="utf-8")
    return policies.parse_rulebook(text, prefix=prefix, city_code=city_code)


# --- parsing (no database) ---------------------------------------------------------------------------------


def test_beijing_rule_book_parses_into_articles_b1_to_b26():
    document = _doc("beijing", "B")
    assert document.title == "北京市责任规划师制度实施办法"
    assert [a.code for a in document.articles] == [f"B{n}" for n in range(1, 27)]
    assert document.get("B19").label == "第十九条"
    assert document.get("B4").chapter == "第一章 总则"
    assert document.get("B19").chapter == "第五章 管理机制"


def test_b19_item_3_has_the_filing_text_exactly():
    document = _doc("beijing", "B")
    item = document.get("B19(3)")
    assert item.text == B19_3
    assert item.anchor == "B19-3" and item.label == "（三）"
    assert [i.code for i in document.get("B19").items] == [f"B19({n})" for n in range(1, 8)]
    assert document.describe("B19(3)") == "第十九条第（三）项"


def test_items_with_half_width_brackets_and_list_dashes_are_items_too():
    document = _doc("beijing", "B")
    assert [i.code for i in document.get("B11").items] == [f"B11({n})" for n in range(1, 7)]
    assert document.get("B11(4)").text.startswith("开展宣教培训。")
    assert [i.code for i in document.get("B14").items] == [f"B14({n})" for n in range(1, 8)]
    assert document.get("B14(1)").text == "向聘任主体和政府相关部门提出意见和建议。"


def test_paragraphs_cut_by_a_page_break_are_joined_again():
    document = _doc("beijing", "B")
    assert document.get("B7").paragraphs == (
        ("聘任主体应落实市、区人民政府关于责任规划师制度的部署和要求，为责任规划师提供必要的工作条件和基础资料，"
         "协助责任规划师开展规划服务和公众参与等活动，保障责任规划师全过程参与责任单元内的规划建设和管理相关工作。"),
    )
    assert "每个续聘期限可为1到3年。责任规划师个人、团队同时服务的责任单元原则上不超过3个。" in document.get("B19(2)").text
    assert document.get("B14(7)").text == "接受行业主管部门、相关委办局，专业学会和行业协会的继续教育和培训。"
    assert len(document.get("B20").paragraphs) == 2
    assert document.get("B20").paragraphs[1].endswith("评估结果可作为对区规划自然资源主管部门的考评参考。")


def test_pingdingshan_rule_book_parses_into_articles_p1_to_p7_with_items():
    document = _doc("pingdingshan", "P")
    assert document.title == "平顶山市责任规划师制度实施方案（试行）"
    assert [a.code for a in document.articles] == [f"P{n}" for n in range(1, 8)]
    assert document.get("P1").heading == "总则" and document.get("P4").heading == "选聘条件"
    assert [i.code for i in document.get("P5").items] == [f"P5({n})" for n in range(1, 5)]
    assert [i.code for i in document.get("P6").items] == [f"P6({n})" for n in range(1, 6)]
    assert "公示期不少于 5 个工作日" in document.get("P5(2)").text
    assert document.get("P3(1)").heading == "专业咨询服务，精准建言献策"
    removal = document.get("P5(4)")
    assert len(removal.paragraphs) == 6 and removal.paragraphs[5].startswith("5.其他不宜继续担任")
    assert document.get("P7").paragraphs == ("本方案适用于平顶山市中心城区。由市自然资源和规划局负责解释。",)


def test_codes_and_references_are_normalised():
    assert policies.normalise_code("B19（3）") == "B19(3)"
    assert policies.anchor_for("P5(2)") == "P5-2"
    assert policies.split_refs("B11(2)、B22") == ["B11(2)", "B22"]
    assert policies.cn_number("二十六") == 26 and policies.cn_numeral(26) == "二十六"


# --- pages ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_beijing_policy_page_shows_every_article_and_item_with_an_anchor(anon, beijing):
    response = anon.get("/info/policies/beijing/")
    html = response.content.decode()
    assert response.status_code == 200
    for n in range(1, 27):
        assert f'id="B{n}"' in html
    assert 'id="B19-3"' in html and 'id="B11-6"' in html
    assert "签订聘用合同,并报送区级责任规划师工作专班" in html


@pytest.mark.django_db
def test_pingdingshan_policy_page_shows_p1_to_p7(anon, pingdingshan):
    html = anon.get("/info/policies/pingdingshan/").content.decode()
    for n in range(1, 8):
        assert f'id="P{n}"' in html
    assert 'id="P5-2"' in html


@pytest.mark.django_db
def test_unknown_city_policy_page_is_404(anon, beijing):
    assert anon.get("/info/policies/atlantis/").status_code == 404


# --- interpretations -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_published_interpretation_appears_beside_the_article_it_explains(anon, city_admin):
    interpretation = services.interpretation_create(
        actor=city_admin, city=city_admin.city, title="聘用合同备案怎么办", body="聘任主体签订合同后报区级专班备案。",
        articles="B19（3）",
    )
    assert interpretation.articles == ["B19(3)"]
    assert "聘用合同备案怎么办" not in anon.get("/info/policies/beijing/").content.decode()  # a draft is not public

    services.interpretation_publish(actor=city_admin, interpretation=interpretation)
    html = anon.get("/info/policies/beijing/").content.decode()
    article = html[html.index('id="B19"'):html.index('id="B20"')]
    assert "聘用合同备案怎么办" in article and 'class="policy-notes"' in article
    before = html[html.index('id="B18"'):html.index('id="B19"')]
    assert "聘用合同备案怎么办" not in before
    detail = anon.get(f"/info/policies/beijing/interpretations/{interpretation.pk}/")
    assert detail.status_code == 200 and B19_3 in detail.content.decode()

    services.interpretation_withdraw(actor=city_admin, interpretation=interpretation, reason="政策已调整")
    assert "聘用合同备案怎么办" not in anon.get("/info/policies/beijing/").content.decode()
    assert anon.get(f"/info/policies/beijing/interpretations/{interpretation.pk}/").status_code == 404
    actions = list(ActionLog.objects.filter(object_id=str(interpretation.pk), action__startswith="publicinfo.interpretation")
                   .values_list("action", "article"))
    assert sorted(actions) == sorted([("publicinfo.interpretation_create", "B22"), ("publicinfo.interpretation_publish", "B22"),
                                      ("publicinfo.interpretation_withdraw", "B22")])


@pytest.mark.django_db
def test_an_interpretation_of_an_article_that_does_not_exist_is_refused(city_admin, pds_admin):
    with pytest.raises(DomainError) as excinfo:
        services.interpretation_create(actor=city_admin, city=city_admin.city, title="错误", body="内容",
                                       articles=["B27", "B19(9)"])
    assert excinfo.value.code == "unknown_article" and "B27" in excinfo.value.message
    with pytest.raises(DomainError):  # Pingdingshan's articles are P-codes
        services.interpretation_create(actor=pds_admin, city=pds_admin.city, title="错误", body="内容", articles=["B19"])
    assert not ActionLog.objects.filter(action="publicinfo.interpretation_create").exists()


@pytest.mark.django_db
def test_only_the_citys_administrator_publishes_interpretations(city_admin, pds_admin, district_haidian):
    with pytest.raises(Forbidden):
        services.interpretation_create(actor=district_haidian, city=city_admin.city, title="t", body="b", articles="B4")
    with pytest.raises(NotFound):
        services.interpretation_create(actor=pds_admin, city=city_admin.city, title="t", body="b", articles="B4")


@pytest.mark.django_db
def test_interpretation_pages_for_the_city_admin_create_and_publish(login, city_admin, anon):
    client = login(city_admin)
    response = client.post("/info/manage/interpretations/new/", {"title": "全覆盖的含义", "body": "每个街道乡镇都属于一个责任单元。",
                                                                  "articles": "B4"})
    assert response.status_code == 302
    pk = int(re.search(r"/interpretations/(\d+)/", response["Location"]).group(1))
    assert client.post(f"/info/manage/interpretations/{pk}/publish/").status_code == 302
    html = anon.get("/info/policies/beijing/").content.decode()
    assert "全覆盖的含义" in html[html.index('id="B4"'):html.index('id="B5"')]
    bad = client.post("/info/manage/interpretations/new/", {"title": "x", "body": "y", "articles": "B99"})
    assert bad.status_code == 400 and "没有这些条款" in bad.content.decode()


# --- article_link ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_article_link_renders_the_citys_article_as_a_link_to_its_anchor(beijing, pingdingshan):
    template = Template('{% load policy %}{% article_link city "filing" %}')
    html = template.render(Context({"city": beijing}))
    assert html == ('<a class="article-link" href="/info/policies/beijing/#B19-3" '
                    'title="北京市责任规划师制度实施办法 第十九条第（三）项">B19(3)</a>')
    pds = template.render(Context({"city": pingdingshan}))
    assert 'href="/info/policies/pingdingshan/#P6-3"' in pds and ">P6(3)</a>" in pds


@pytest.mark.django_db
def test_article_link_links_each_article_of_a_compound_reference(beijing):
    html = Template('{% load policy %}{% article_link city "suggestion" %}').render(Context({"city": beijing}))
    assert 'href="/info/policies/beijing/#B11-2"' in html and 'href="/info/policies/beijing/#B22"' in html
    assert html.count("<a ") == 2 and "、" in html


def test_article_link_renders_nothing_for_a_city_without_a_policy():
    class _NoPolicy:
        code = "nowhere"

    assert Template('{% load policy %}{% article_link city "filing" %}').render(Context({"city": _NoPolicy()})) == ""


@pytest.mark.django_db
def test_interpretation_publication_status_is_kept(city_admin):
    interpretation = services.interpretation_create(actor=city_admin, city=city_admin.city, title="t", body="b",
                                                    articles=["B4", "B4", "B19(3)"])
    assert interpretation.articles == ["B4", "B19(3)"] and interpretation.status == PublicationStatus.DRAFT
