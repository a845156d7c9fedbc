"""The policy profile for pages and lists (issue #15): read once from the shared cache, re-read after it is
saved, one shared instance per city attached to list rows."""
from django.db import connection
from django.test.utils import CaptureQueriesContext


def test_policy_profile_is_read_once_and_again_after_it_is_saved(beijing):
    from rpms.cities.selectors import attach_policies, policy_for
    from rpms.geography.models import ResponsibilityUnit

    with CaptureQueriesContext(connection) as first:
        assert policy_for(beijing).city_id == beijing.pk
    with CaptureQueriesContext(connection) as second:
        assert policy_for(beijing.pk).notice_working_days == beijing.policy.notice_working_days
    assert len(first) >= 1 and len(second) == 0

    profile = beijing.policy
    profile.notice_working_days += 2
    profile.save()
    assert policy_for(beijing).notice_working_days == profile.notice_working_days

    units = list(ResponsibilityUnit.objects.filter(city=beijing).select_related("city")[:5])
    assert units
    attach_policies(units)
    with CaptureQueriesContext(connection) as rows:
        profiles = {id(unit.city.policy) for unit in units}
    assert len(rows) == 0 and len(profiles) == 1

