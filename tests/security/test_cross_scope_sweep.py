"""Issue #16 item 9: nobody reads records outside their scope. Every URL pattern of the project with a
parameter (django.urls.get_resolver: pages and the JSON API alike, so a new detail page is swept as soon as it
is routed) is requested (GET) with the parameter filled with records of the world:
- as the district officer of 朝阳, with every record of 海淀 (tests.security.world);
- as the street office of 万寿路街道, with the records of the other 海淀 unit;
- as Pingdingshan's city administrator, with every record of Beijing.
A leak is a 2xx whose body holds the record's marker text while an anonymous visitor does not get it at the same
URL (a public page may show a published record to anyone). How each parameter is filled comes from FILL (by
parameter name) and FRAGMENT (`pk` and friends, by the path before them); a pattern whose parameters the world
cannot fill is counted, not tried."""
from __future__ import annotations

import re

import pytest
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from tests.security.sweep import Tally
from tests.security.world import MARK, OTHER

pytestmark = pytest.mark.django_db

SKIP = ("admin/", "static/", "media/")
PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")

# Parameter name → kind of world record (tests.security.world objects), or a callable world → value.
FILL = {
    "unit_id": "unit", "appointment_id": "appointment", "planner_id": "planner", "opinion_id": "opinion",
    "suggestion_id": "suggestion", "case_id": "case", "work_id": "extra_work", "feedback_id": "monitoring_feedback",
    "district_id": "district", "district_code": "district_code", "assessment_id": "assessment",
    "violation_id": "violation", "cert_id": "work_certificate",
}
# For generic names (pk, record_id, request_id, code): the kind by the path before the parameter (longest first).
FRAGMENT = [
    ("duties/records/", "duty_record"), ("duty-records/", "duty_record"), ("data-requests/", "data_request"),
    ("extra-work/", "extra_work"), ("duties/feedback/", "monitoring_feedback"), ("monitoring-feedback/", "monitoring_feedback"),
    ("duties/units/", "unit"), ("appointments/units/", "unit"), ("geography/units/", "unit"), ("units/", "unit"),
    ("suggestions/manage/", "suggestion"), ("opinions/", "opinion"), ("case-submissions/", "case"), ("cases/", "case"),
    ("dispatch/requests/", "dispatch_request"), ("dispatch-requests/", "dispatch_request"),
    ("fee-schedules/", "appointment"), ("finance/fees/appointments/", "appointment"), ("appointments/", "appointment"),
    ("training/planners/", "planner"), ("pool/", "planner"), ("geography/districts/", "district_code"),
    ("cases/manage/", "case"), ("appointments/proposals/", "selection_proposal"), ("duties/certificates/", "work_certificate"),
    ("assessments/violations/", "violation"), ("assessments/", "assessment"), ("suggestions/proposals/", "work_proposal"),
    ("work-proposals/", "work_proposal"),
]


def routes():
    """Every routed path with parameters (prefix included), outside the admin and static files."""
    def walk(patterns, prefix):
        for pattern in patterns:
            text = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if not isinstance(pattern.pattern, RoutePattern) and text not in ("^", ""):
                    continue  # regex-routed includes: the Django admin and the like
                yield from walk(pattern.url_patterns, prefix + text)
            elif isinstance(pattern.pattern, RoutePattern):
                yield prefix + text

    return sorted({r for r in walk(get_resolver().url_patterns, "") if "<" in r and not r.startswith(SKIP)})


def kind_of(route: str, start: int, name: str) -> str | None:
    if name in FILL:
        return FILL[name]
    before = route[:start]
    for fragment, kind in FRAGMENT:
        if before.endswith(fragment):
            return kind
    return None


def records(world) -> dict:
    """Kind → [(value, marker text, unit tag)] of the world's 海淀 records."""
    found = {kind: [(obj.pk, getattr(obj, "unit_id", None)) for obj in objs] for kind, objs in world["objects"].items()}
    units = world["units"]
    tag = {units["wanshou"].pk: "own", units["other"].pk: "other"}
    out = {kind: [(pk, tag.get(unit_id, "district")) for pk, unit_id in items] for kind, items in found.items()}
    out["unit"] = [(units["wanshou"].pk, "own"), (units["other"].pk, "other")]
    out["planner"] = [(a.planner_id, tag[a.unit_id]) for a in world["objects"]["appointment"]]
    out["district"] = [(world["district"].pk, "district")]
    out["district_code"] = [(world["district"].code, "district")]
    return out


def urls_for(route: str, recs: dict, wanted) -> tuple[list, bool]:
    """The URLs of `route` filled with the records `wanted(tag)` selects; False if a parameter cannot be filled."""
    params = list(PARAM.finditer(route))
    choices = []
    for match in params:
        kind = kind_of(route, match.start(), match.group(2))
        if kind is None or kind not in recs:
            return [], False
        choices.append([(value, t) for value, t in recs[kind] if wanted(t)])
    if len(params) > 1:  # one record per pattern: the first parameter's record, the others from the same record set
        urls = []
        for combo in zip(*choices):
            url = route
            for match, (value, _) in reversed(list(zip(params, combo))):
                url = url[:match.start()] + str(value) + url[match.end():]
            urls.append("/" + url)
        return urls, True
    match = params[0]
    return ["/" + route[:match.start()] + str(value) + route[match.end():] for value, _ in choices[0]], True


def test_no_record_is_read_outside_its_scope(world, personas, login, anon):
    recs = records(world)
    cases = [
        ("朝阳区工作人员读海淀区记录", personas["district_chaoyang"], lambda t: True, MARK),
        ("万寿路街道读另一街道记录", personas["street_office"], lambda t: t == "other", MARK + OTHER),
        ("平顶山市管理员读北京市记录", personas["pds_admin"], lambda t: True, MARK),
    ]
    all_routes = routes()
    tally = Tally("跨辖区巡检（cross-district sweep）")
    unfilled, public = set(), 0
    for label, user, wanted, marker in cases:
        client = login(user)
        for route in all_routes:
            urls, filled = urls_for(route, recs, wanted)
            if not filled:
                unfilled.add(route)
                continue
            for url in urls:
                tally.tried += 1
                response = client.get(url)
                if response.status_code >= 500:
                    tally.failures.append(f"{label}: {url} → {response.status_code}")
                    continue
                if not 200 <= response.status_code < 300 or marker not in response.content.decode("utf-8", "replace"):
                    continue
                seen = anon.get(url)
                if 200 <= seen.status_code < 300 and marker in seen.content.decode("utf-8", "replace"):
                    public += 1  # public to anyone: not a leak
                    continue
                tally.failures.append(f"{label}: {url} → {response.status_code} with the record")
    tally.notes = {"patterns": len(all_routes), "patterns the world cannot fill": len(unfilled), "public answers": public}
    message = tally.report("leaked")
    assert tally.tried > 150, message
    assert tally.failures == [], message
