"""Fixtures of the security sweeps (issue #16 item 9): every persona of the root conftest by name, one caller
per role (rpms.core.roles.Role, so that a new role is swept as soon as it exists) and the world of
tests.security.world."""
import logging

import pytest

# The root conftest's personas, by fixture name.
PERSONAS = ("city_admin", "pds_admin", "district_haidian", "district_chaoyang", "street_office", "planner_user",
            "auditor", "system_admin", "security_admin", "audit_admin")


@pytest.fixture
def personas(request):
    return {name: request.getfixturevalue(name) for name in PERSONAS}


@pytest.fixture
def role_callers(personas):
    """Role value → the persona that holds it (the first of PERSONAS); a role no persona holds gets a user made
    for it (city Beijing), so a role added later is swept too. "anonymous" → None."""
    from rpms.accounts.models import Role
    from rpms.testing.builders import user_build

    callers = {"anonymous": None}
    for name in PERSONAS:
        callers.setdefault(personas[name].role, personas[name])
    for role in Role:
        if role.value not in callers:
            callers[role.value] = user_build(f"t_sweep_{role.value}", role.value, personas["city_admin"].city)
    return callers


@pytest.fixture
def world(personas, clock):
    from tests.security.world import world_build

    return world_build(personas, clock)


@pytest.fixture(autouse=True)
def _quiet():
    """Thousands of refused requests: their 4xx warnings are silenced (5xx are counted by the sweeps)."""
    loggers = [logging.getLogger(n) for n in ("django.request", "django.security", "rpms.api", "rpms.requests")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    yield
    for logger, level in zip(loggers, levels):
        logger.setLevel(level)
