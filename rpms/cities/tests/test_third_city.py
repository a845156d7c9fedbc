"""A third city is configured purely through data: no code mentions it."""
import datetime as dt

import pytest

from rpms.cities.articles import ARTICLE_STEPS
from rpms.cities.eligibility import eligibility_check
from rpms.cities.selectors import policy_article, policy_window_end
from rpms.cities.services import city_configure
from rpms.core.models import ActionLog

pytestmark = pytest.mark.django_db

THIRD_CITY = {
    "city": {"code": "example_city", "name": "示例市", "rulebook_title": "示例市责任规划师工作办法（测试用）", "article_prefix": "E"},
    "policy": {
        "notice_working_days": 7,
        "withdrawal_notice_working_days": 20,
        "first_term_years": 2,
        "renewal_years_min": 2,
        "renewal_years_max": 2,
        "max_units_per_planner": 2,
        "max_core_team_members": 5,
        "allowance_yuan_per_person_year": 6000,
        "pool_requires_notice": True,
        "contract_signer": "city_bureau",
        "appointment_mode": "city_dispatch",
        "grades": [
            {"code": "good", "label": "称职", "article": "E9", "renewal": "allowed"},
            {"code": "poor", "label": "不称职", "article": "E9", "renewal": "refused", "remove_from_pool": True, "removal_ground": "poor_grade"},
        ],
        "removal_grounds": [{"code": "poor_grade", "label": "考核不称职", "article": "E9"}],
        "duty_categories": [{"code": "advice", "label": "规划咨询", "article": "E3"}],
        "specialties": [{"code": "planning", "label": "城乡规划"}, {"code": "ecology", "label": "生态修复"}],
        "registrations": [{"code": "registered_planner", "label": "注册城乡规划师"}],
        "eligibility_rules": {"article": "E4", "applies_to": "individual", "rules": [
            {"code": "qualification", "article": "E4(1)", "label": "城乡规划或生态修复专业硕士及以上，或从业满 8 年", "any_of": [
                {"code": "degree", "label": "相关专业硕士及以上", "degree_min": "master", "degree_fields": ["planning", "ecology"]},
                {"code": "years", "label": "从业满 8 年", "experience_years_min": 8},
            ]},
            {"code": "registered", "article": "E4(2)", "label": "注册城乡规划师", "registrations_any": ["registered_planner"]},
        ]},
        "contract_clauses": [{"code": "tasks", "label": "工作任务", "article": "E6", "binds": "planner"}],
        "articles": {step: "E5" for step in ARTICLE_STEPS},
    },
}


def test_a_third_city_is_configured_by_data_alone(client):
    city = city_configure(actor=None, data=THIRD_CITY)
    assert ActionLog.objects.filter(action="cities.city_configure", object_id=str(city.pk)).count() == 1

    policy = client.get("/api/v1/cities/example_city/policy").json()
    assert policy["notice_working_days"] == 7
    assert policy["max_units_per_planner"] == 2
    assert policy["zone_types"] == []
    assert "example_city" in [c["code"] for c in client.get("/api/v1/cities").json()]

    # Its eligibility rules are evaluated as written, article by article.
    ok = eligibility_check(policy=city.policy, facts={"degree": "master", "degree_field": "ecology", "registrations": ["registered_planner"]})
    assert ok.eligible is True
    ko = eligibility_check(policy=city.policy, facts={"degree": "bachelor", "degree_field": "planning", "experience_years": 7, "registrations": ["registered_planner"]})
    assert ko.eligible is False
    assert [o.article for o in ko.failed()] == ["E4(1)"]

    # Its deadline: 7 working days from Monday 2026-09-28 skip National Day (10-01..10-07) and
    # count Saturday 10-10, a make-up working day: 28, 29, 30 Sep, 8, 9, 10, 12 Oct.
    window = policy_window_end(city=city, rule="notice_working_days", start=dt.date(2026, 9, 28))
    assert window.end == dt.date(2026, 10, 12)
    assert window.provisional is False


def test_a_broken_city_document_creates_nothing(client):
    broken = {"city": THIRD_CITY["city"], "policy": dict(THIRD_CITY["policy"], renewal_years_min=3)}
    from rpms.core.errors import DomainError

    with pytest.raises(DomainError) as excinfo:
        city_configure(actor=None, data=broken)
    assert "续聘期下限不得大于上限" in excinfo.value.message
    assert client.get("/api/v1/cities/example_city/policy").status_code == 404
    assert ActionLog.objects.count() == 0


def test_each_city_cites_its_own_article_for_each_step(beijing, pingdingshan):
    city = city_configure(actor=None, data=THIRD_CITY)
    assert policy_article(beijing, "notice") == "B19(7)"
    assert policy_article(pingdingshan, "notice") == "P5(2)"
    assert policy_article(city, "notice") == "E5"
    for step in ARTICLE_STEPS:
        assert policy_article(beijing, step).startswith("B")
        assert policy_article(pingdingshan, step).startswith("P")
    with pytest.raises(ValueError):
        policy_article(beijing, "no_such_step")


def test_a_city_without_an_article_for_every_step_is_refused():
    import copy

    from rpms.core.errors import DomainError

    data = copy.deepcopy(THIRD_CITY)
    del data["policy"]["articles"]["notice"]
    data["policy"]["articles"]["made_up_step"] = "E1"
    with pytest.raises(DomainError) as exc:
        city_configure(actor=None, data=data)
    assert "入库公示（notice）" in exc.value.message
    assert "made_up_step" in exc.value.message
