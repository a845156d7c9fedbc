"""Contract clauses are data: each city's wording, filled per contract (B19(3), P6(3))."""
import copy

import pytest

from rpms.cities.selectors import contract_clause_texts
from rpms.cities.services import policy_update
from rpms.core.errors import DomainError

pytestmark = pytest.mark.django_db


def test_every_clause_of_the_city_is_filled_with_the_contract_values(beijing, pingdingshan):
    values = {"unit_name": "万寿路街道责任单元", "role_label": "责任规划师", "start": "2026-12-01", "end": "2027-11-30",
              "term_years": 1, "fee": "每年 60000 元", "duties": "强化调查研究；广泛联系群众", "district_name": "海淀区"}
    bj = contract_clause_texts(beijing, values)
    assert [c["code"] for c in bj] == [c["code"] for c in beijing.policy.contract_clauses]
    service_time = next(c for c in bj if c["code"] == "service_time")
    assert "自 2026-12-01 起至 2027-11-30 止" in service_time["text"]
    assert service_time["article"].startswith("B19")
    pds = contract_clause_texts(pingdingshan, values)
    assert {c["label"] for c in pds} >= {"工作任务", "服务方式", "服务费用", "责任范围", "权利义务", "考核评价", "违约责任"}
    # A value not given never leaves a raw placeholder behind.
    assert all("{" not in c["text"] for c in bj + pds)
    assert "（按双方约定）" in next(c for c in pds if c["code"] == "scope")["text"]  # subdistricts not given


def test_a_clause_with_an_unknown_placeholder_is_refused(beijing, city_admin):
    clauses = copy.deepcopy(beijing.policy.contract_clauses)
    clauses[0]["text"] = "乙方应于{deadline}前完成"
    with pytest.raises(DomainError) as exc:
        policy_update(actor=city_admin, city=beijing, changes={"contract_clauses": clauses})
    assert "deadline" in exc.value.message
    beijing.policy.refresh_from_db()
    assert "{deadline}" not in beijing.policy.contract_clauses[0]["text"]


def test_every_shipped_clause_says_whom_it_binds(beijing, pingdingshan):
    for city in (beijing, pingdingshan):
        assert all(c["binds"] in ("planner", "entity", "both") for c in city.policy.contract_clauses)
    # B25: the entity's own payment clause never lets it end the contract; a clause binding both does.
    assert beijing.policy.contract_clause("remuneration")["binds"] == "entity"
    assert pingdingshan.policy.contract_clause("service_fee")["binds"] == "entity"
    bj = [c["code"] for c in beijing.policy.clauses_binding_planner()]
    assert "remuneration" not in bj and {"service_content", "rights_responsibilities"} <= set(bj)
    pds = [c["code"] for c in pingdingshan.policy.clauses_binding_planner()]
    assert "service_fee" not in pds and {"work_tasks", "liability"} <= set(pds)


@pytest.mark.parametrize("binds, expected", [
    (None, "须注明约束哪一方（binds）"),
    ("landlord", "约束的一方“landlord”不在允许范围内"),
])
def test_a_clause_without_a_valid_party_is_refused_in_chinese(beijing, city_admin, binds, expected):
    clauses = copy.deepcopy(beijing.policy.contract_clauses)
    if binds is None:
        del clauses[0]["binds"]
    else:
        clauses[0]["binds"] = binds
    with pytest.raises(DomainError) as exc:
        policy_update(actor=city_admin, city=beijing, changes={"contract_clauses": clauses})
    assert expected in exc.value.message and "planner（乙方（责任规划师））" in exc.value.message
    beijing.policy.refresh_from_db()
    assert beijing.policy.contract_clauses[0]["binds"] == "planner"
