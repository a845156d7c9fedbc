"""Issue #12 item 7: violation kinds (and their citations) come from the city's own policy. Beijing lists
B16's four; Pingdingshan lists P5(4) items 1–2; no Pingdingshan page, API answer or PDF shows a Beijing
article."""
import datetime as dt
import importlib
import io
import json
import re

import pytest
from django.apps import apps
from django.test import Client

from rpms.assessments import services
from rpms.assessments.models import Violation
from rpms.cities.models import PolicyProfile
from rpms.cities.services import _apply_policy
from rpms.core.errors import DomainError

from .conftest import appoint, inputs_in, score_all

pytestmark = pytest.mark.django_db

# (not inside a word: a document's random verification code, printed in groups of four, may hold "B7K2")
BEIJING_ARTICLE = re.compile(r"(?<![A-Za-z0-9#])B(?:1\d|2[0-6]|[1-9])(?![0-9A-Za-z])")


def beijing_citations(text: str) -> list[str]:
    return BEIJING_ARTICLE.findall(text)


def test_each_city_lists_its_own_kinds_with_its_own_articles(beijing, pingdingshan):
    bj = beijing.policy.violation_kinds
    assert [k["code"] for k in bj] == ["confidentiality", "improper_benefit", "unfair_advantage", "misleading"]
    assert [k["article"] for k in bj] == ["B16(1)", "B16(2)", "B16(3)", "B16(4)"]
    pds = pingdingshan.policy.violation_kinds
    assert pds and all(k["article"].startswith("P5(4)") for k in pds)
    assert beijing_citations(json.dumps(pds, ensure_ascii=False)) == []


def test_a_city_policy_citing_another_city_is_refused(pingdingshan):
    profile = PolicyProfile.objects.select_related("city").get(city=pingdingshan)
    kinds = [*profile.violation_kinds, {"code": "misleading", "label": "有意误导决策", "article": "B16(4)"}]
    with pytest.raises(DomainError) as refused:
        _apply_policy(profile, {"violation_kinds": kinds})
    assert "本市条款" in refused.value.message


def _pds_violation(pds_case, clock):
    appointment = appoint(pds_case, clock)
    clock.set(appointment.start + dt.timedelta(days=20))
    with pytest.raises(DomainError) as refused:  # Beijing's B16 kinds are not Pingdingshan's
        services.violation_record(actor=pds_case["appointer"], planner=pds_case["planner"], kind="misleading",
                                  description="提供虚假数据", occurred_on=clock.today)
    assert refused.value.code == "invalid_kind" and "B16" not in refused.value.message
    violation = services.violation_record(
        actor=pds_case["appointer"], planner=pds_case["planner"], kind="falsification",
        description="在审查意见中弄虚作假", occurred_on=clock.today, appointment=appointment)
    assert violation.kind_label == "在履职过程中弄虚作假（P5(4)2）"
    return appointment, violation


def test_pingdingshan_violation_pages_api_and_result_pdf_cite_no_beijing_article(pds_case, clock, login, bearer):
    from pdfminer.high_level import extract_text

    appointment, violation = _pds_violation(pds_case, clock)
    admin = login(pds_case["appointer"])
    bodies = {
        "form": admin.get("/assessments/violations/new/").content.decode(),
        "list": admin.get("/assessments/violations/").content.decode(),
        "detail": admin.get(f"/assessments/violations/{violation.pk}/").content.decode(),
        "export": "",
    }
    assert "在履职过程中弄虚作假" in bodies["form"] and "P5(4)2" in bodies["form"]
    assert "违反保密规定" not in bodies["form"]
    assert "P5(4)2" in bodies["detail"]
    headers = bearer(pds_case["appointer"])
    api = Client().get("/api/v1/violations", **headers).json()
    assert api[0]["kind_article"] == "P5(4)2"
    bodies["api"] = json.dumps(api, ensure_ascii=False)
    bodies["policy api"] = json.dumps(Client().get("/api/v1/cities/pingdingshan/policy").json()["violation_kinds"],
                                      ensure_ascii=False)

    clock.set(appointment.end - dt.timedelta(days=10))
    assessment = services.assessment_open(actor=pds_case["lead"], appointment=appointment)
    inputs_in(pds_case, assessment)
    score_all(pds_case, assessment, value=55)
    services.assessment_grade(actor=pds_case["lead"], assessment=assessment, grade="unqualified")
    assessment.refresh_from_db()
    assert assessment.inputs["violations"]["items"][0]["article"] == "P5(4)2"
    bodies["inputs"] = json.dumps(assessment.inputs, ensure_ascii=False)
    headers = bearer(pds_case["appointer"])  # a token of the day: the morning's one has lapsed since
    pdf = Client().get(f"/api/v1/assessments/{assessment.pk}/result.pdf", **headers)
    assert pdf.status_code == 200
    bodies["result pdf"] = extract_text(io.BytesIO(b"".join(pdf.streaming_content) if pdf.streaming else pdf.content))
    assert "P" in bodies["result pdf"]
    for name, body in bodies.items():
        assert beijing_citations(body) == [], name


def test_beijing_keeps_b16(bj_case, clock, login):
    appointment = appoint(bj_case, clock)
    clock.set(appointment.start + dt.timedelta(days=20))
    violation = services.violation_record(actor=bj_case["lead"], planner=bj_case["planner"], kind="confidentiality",
                                          description="泄露未公开方案", occurred_on=clock.today)
    assert violation.kind_label.endswith("（B16(1)）")
    assert "B16(1)" in login(bj_case["lead"]).get(f"/assessments/violations/{violation.pk}/").content.decode()


def test_a_city_listing_no_kinds_shows_none_and_records_none(pds_case, clock, login):
    PolicyProfile.objects.filter(city=pds_case["city"]).update(violation_kinds=[])
    appoint(pds_case, clock)
    page = login(pds_case["appointer"]).get("/assessments/violations/new/").content.decode()
    assert "未列出违规情形" in page and 'name="kind"' not in page
    with pytest.raises(DomainError) as refused:
        services.violation_record(actor=pds_case["appointer"], planner=pds_case["planner"], kind="falsification",
                                  description="测试", occurred_on=clock.today)
    assert refused.value.code == "no_violation_kinds"


def test_the_migration_moves_old_beijing_kinds_of_pingdingshan_rows_to_its_own(pds_case, bj_case, clock):
    pds_row = Violation.objects.create(city=pds_case["city"], planner=pds_case["planner"], kind="misleading",
                                       description="旧记录", occurred_on=clock.today, recorded_at=dt.datetime(2026, 1, 5, 8))
    bj_row = Violation.objects.create(city=bj_case["city"], planner=bj_case["planner"], kind="misleading",
                                      description="旧记录", occurred_on=clock.today, recorded_at=dt.datetime(2026, 1, 5, 8))
    migration = importlib.import_module("rpms.assessments.migrations.0002_violation_kinds_from_policy")
    migration.kinds_from_city_policy(apps, None)
    pds_row.refresh_from_db()
    bj_row.refresh_from_db()
    assert pds_row.kind == "falsification" and pds_row.kind_article == "P5(4)2"
    assert bj_row.kind == "misleading" and bj_row.kind_article == "B16(4)"
