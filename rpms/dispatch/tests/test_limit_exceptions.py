"""Issue #12 item 4: the matching (P6(2)) never creates an exception by itself — even where the city
marks the unit cap "in principle" (Beijing, B19(2)), a planner at the cap is not proposed and a stale
proposal over the cap is refused at confirmation, as a hard limit."""
import pytest

from rpms.core.errors import Conflict
from rpms.dispatch.models import ProposalStatus
from rpms.dispatch.services import matching_run, proposal_confirm
from rpms.registry.models import LimitException
from rpms.testing.builders import appoint

from .conftest import make_member, today, units_of

pytestmark = pytest.mark.django_db


def test_the_matching_keeps_an_in_principle_cap_as_a_hard_limit(dispatching_beijing, beijing, haidian, chaoyang,
                                                                 district_haidian, city_admin, accepted_request):
    assert beijing.policy.limit_in_principle("unit_cap")
    busy = make_member(beijing, "满额", districts=[haidian], experience_years=20)
    for unit in units_of(chaoyang, 3):
        appoint(city_admin, busy, unit)
    accepted_request(district_haidian, city_admin, units_of(haidian, 1))

    run = matching_run(actor=city_admin, city=beijing)

    assert not run.proposals.exists() and run.unfilled[0]["reason_code"] == "all_at_capacity"
    assert not LimitException.objects.exists()


def test_confirming_a_stale_proposal_over_an_in_principle_cap_is_refused(dispatching_beijing, beijing, haidian,
                                                                        chaoyang, district_haidian, city_admin,
                                                                        accepted_request):
    planner = make_member(beijing, "将满额", districts=[haidian])
    elsewhere = units_of(chaoyang, 3)
    appoint(city_admin, planner, elsewhere[0])
    appoint(city_admin, planner, elsewhere[1])
    accepted_request(district_haidian, city_admin, units_of(haidian, 1))
    stale = matching_run(actor=city_admin, city=beijing).proposals.get(status=ProposalStatus.PROPOSED)
    appoint(city_admin, planner, elsewhere[2])

    with pytest.raises(Conflict) as refused:
        proposal_confirm(actor=city_admin, proposal=stale, start=today())

    assert refused.value.code == "unit_cap_reached"
    assert not LimitException.objects.exists()
