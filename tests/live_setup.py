"""The data of the live concurrency test (tests/test_concurrency_live.py), made through the project's services
and test builders in the environment of the server under test (its settings, its database):

    DATABASE_URL=… python -m tests.live_setup OUT.json

Beijing (local selection, cap of 3 units per planner, B19(2)), Haidian district:
- a district officer; the hiring entity of every unit used;
- DUTY_PLANNERS planners appointed a week ago (entity proposes, district approves) who record duties;
- one planner with CAP_PROPOSALS pending proposals to as many units: the district approving them all at
  once must stop at the cap;
- FRESH_PLANNERS pool members without a unit, proposed and approved by the writers of the load;
- an API token for the officer, every entity and every duty planner (issued by the accounts service).
Every account has the password PASSWORD (hashed once with the server's hasher). Writes OUT as JSON.
"""
import datetime as dt
import json
import os
import sys

DUTY_PLANNERS = 8
CAP_PROPOSALS = 8
FRESH_PLANNERS = 40
PASSWORD = "Test-pass-2026!"


def _planner(city, n: int, *, user: bool):
    from rpms.accounts.models import Role, User
    from rpms.registry.models import Planner

    name = f"并发测试规划师{n:03d}（虚构）"
    account = None
    if user:
        account = User.objects.create_user(username=f"live_planner_{n}", password=None, role=Role.PLANNER, city=city,
                                           display_name=name)
    return Planner.objects.create(
        city=city, name=name, user=account, kind="individual", pool_status="active", is_fictional=True,
        employer="虚构规划设计研究院", id_number=f"1101081990{n:07d}X"[:18], mobile=f"139{n:08d}",
    )


def build() -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.test import override_settings

    from rpms.accounts.models import User
    from rpms.accounts.services import api_token_issue
    from rpms.appointments import proposals
    from rpms.core import clock
    from rpms.geography.reference import reference_data_load
    from rpms.geography.models import ResponsibilityUnit
    from rpms.testing.builders import appointment_build, district_user_for, entity_user_for

    cities = {c.code: c for c in reference_data_load(actor=None)}
    beijing = cities["beijing"]
    assert beijing.policy.max_units_per_planner == 3, beijing.policy.max_units_per_planner
    units = list(ResponsibilityUnit.objects.filter(city=beijing, district__code="110108", dissolved_at__isnull=True)
                 .select_related("district", "city__policy").order_by("id"))
    assert len(units) >= DUTY_PLANNERS + CAP_PROPOSALS + 4, len(units)
    duty_units = units[:DUTY_PLANNERS]
    cap_units = units[DUTY_PLANNERS:DUTY_PLANNERS + CAP_PROPOSALS]
    open_units = units[DUTY_PLANNERS + CAP_PROPOSALS:]
    today = clock.today()

    # The builders give each account they create the password, hashed by the server's (deliberately slow)
    # hasher; a fast one while building, then one hash of the real hasher for all of them.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]), transaction.atomic():
        officer = district_user_for(units[0])
        entities = {unit.pk: entity_user_for(unit) for unit in units}
        duty = []
        for i, unit in enumerate(duty_units):
            planner = _planner(beijing, i + 1, user=True)
            appointment_build(unit=unit, planner=planner, start=today - dt.timedelta(days=7), district_user=officer,
                              entity_user=entities[unit.pk])
            duty.append({"planner": planner.pk, "username": planner.user.username, "unit": unit.pk})
        capped = _planner(beijing, 100, user=False)
        cap_proposals = [
            proposals.proposal_submit(actor=entities[unit.pk], planner=capped, unit=unit, role="responsible_planner",
                                      start=today).pk
            for unit in cap_units
        ]
        fresh = [_planner(beijing, 200 + i, user=False).pk for i in range(FRESH_PLANNERS)]

    User.objects.filter(username__in=[officer.username, *[d["username"] for d in duty],
                                      *[e.username for e in entities.values()]]).update(password=make_password(PASSWORD))

    def token(user) -> str:
        return api_token_issue(user=user)[0]

    entity_tokens = {}
    for user in {e.pk: e for e in entities.values()}.values():
        entity_tokens[user.pk] = token(user)
    return {
        "today": today.isoformat(),
        "password": PASSWORD,
        "category": beijing.policy.duty_categories[0]["code"],
        "officer": {"username": officer.username, "token": token(officer)},
        "units": [u.pk for u in units],
        "duty": [{**d, "token": token(User.objects.get(username=d["username"]))} for d in duty],
        "entities": [{"unit": unit.pk, "username": entities[unit.pk].username,
                      "token": entity_tokens[entities[unit.pk].pk]} for unit in open_units],
        "cap": {"planner": capped.pk, "cap": beijing.policy.max_units_per_planner, "proposals": cap_proposals},
        "fresh_planners": fresh,
    }


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    with open(argv[1], "w", encoding="utf-8") as out:
        json.dump(build(), out, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv)
