"""Rules that were constants in code now live in the policy (issue #14 item 6), with today's values as
defaults in both shipped cities; the matching weights must sum to 100."""
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from rpms.cities.models import PolicyProfile
from rpms.cities.services import policy_update
from rpms.core.errors import DomainError

pytestmark = pytest.mark.django_db

TODAYS_VALUES = {
    "contract_filing_days": 30, "assessment_due_reminder_days": 30, "matching_weight_specialty": 40,
    "matching_weight_familiarity": 25, "matching_weight_experience": 20, "matching_weight_grade": 15,
    "honour_title": "优秀责任规划师",
}


def test_both_cities_and_the_model_keep_todays_values(beijing, pingdingshan):
    for name, value in TODAYS_VALUES.items():
        assert PolicyProfile._meta.get_field(name).default == value
        for city in (beijing, pingdingshan):
            assert getattr(city.policy, name) == value
        for code in ("beijing", "pingdingshan"):
            shipped = json.loads((Path(settings.DATA_DIR) / "cities" / f"{code}.json").read_text(encoding="utf-8"))
            assert shipped["policy"][name] == value
    assert beijing.policy.matching_weights() == {"specialty": 40, "familiarity": 25, "experience": 20, "grade": 15}


def test_matching_weights_not_summing_to_100_are_refused(beijing, city_admin):
    with pytest.raises(DomainError) as refused:
        policy_update(actor=city_admin, city=beijing, changes={"matching_weight_specialty": 50})
    assert refused.value.code == "invalid_policy" and "之和须为 100" in refused.value.message
    policy = policy_update(actor=city_admin, city=beijing, changes={"matching_weight_specialty": 50,
                                                                   "matching_weight_familiarity": 15})
    assert policy.matching_weights() == {"specialty": 50, "familiarity": 15, "experience": 20, "grade": 15}
    with pytest.raises(IntegrityError), transaction.atomic():  # the database holds the rule too
        PolicyProfile.objects.filter(pk=policy.pk).update(matching_weight_grade=16)


def test_the_policy_page_shows_and_edits_the_new_rules(beijing, client, city_admin):
    client.force_login(city_admin)
    html = client.get(f"/cities/{beijing.code}/").content.decode()
    for label in ("聘用合同按时备案期限（天）", "年度考核待开展提醒（天）", "统筹选派评分权重：专业匹配", "荣誉称号"):
        assert label in html
    edit = client.get(f"/cities/{beijing.code}/edit/").content.decode()
    assert 'name="contract_filing_days"' in edit and 'name="honour_title"' in edit
