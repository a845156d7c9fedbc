"""The matching score's weights come from the city's policy (rpms.cities PolicyProfile.matching_weight_*,
issue #14 item 6): a city weighting experience heavily picks the veteran over the local planner."""
import pytest

from rpms.dispatch.models import ProposalStatus
from rpms.dispatch.services import matching_run

from .conftest import make_member, units_of

pytestmark = pytest.mark.django_db


def test_the_citys_weights_decide_between_the_veteran_and_the_local(dispatching_beijing, haidian, district_haidian,
                                                                     city_admin, accepted_request):
    beijing = dispatching_beijing
    veteran = make_member(beijing, "资深规划师", experience_years=30)
    local = make_member(beijing, "本区规划师", districts=[haidian], experience_years=0)
    accepted_request(district_haidian, city_admin, units_of(haidian, 1))
    run = matching_run(actor=city_admin, city=beijing)
    [proposal] = run.proposals.filter(status=ProposalStatus.PROPOSED)
    assert proposal.planner_id == local.pk  # today's weights 40/25/20/15: knowing the district wins
    assert run.weights == {"specialty": 40, "familiarity": 25, "experience": 20, "grade": 15}

    policy = beijing.policy
    policy.matching_weight_specialty, policy.matching_weight_familiarity = 20, 10
    policy.matching_weight_experience, policy.matching_weight_grade = 60, 10
    policy.save()
    rerun = matching_run(actor=city_admin, city=beijing)  # the open proposal of the first run is discarded
    [chosen] = rerun.proposals.filter(status=ProposalStatus.PROPOSED)
    assert chosen.planner_id == veteran.pk
    assert rerun.weights == {"specialty": 20, "familiarity": 10, "experience": 60, "grade": 10}
    terms = {t["code"]: t for t in chosen.explanation["terms"]}
    assert terms["experience"]["points"] == 60
