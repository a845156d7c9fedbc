"""Shared machinery of the security sweeps: the API document, path parameters filled from the world, calls
made inside a savepoint that is rolled back (every call sees the same world) and the tally they print."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

API_PREFIX = "/api/v1"
PLACEHOLDER = re.compile(r"{(?:[a-z]+:)?([A-Za-z_]+)}")
MISSING_ID = 987654321  # a parameter the world holds no record for: answered 404 by everyone


def openapi_operations(client) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation of /api/v1/openapi.json, as the application serves it."""
    response = client.get(f"{API_PREFIX}/openapi.json")
    assert response.status_code == 200
    return [(method.upper(), path) for path, item in response.json()["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")]


def world_ids(world) -> dict:
    """Parameter name → value, for objects of Beijing / 海淀 (万寿路街道 where a unit is meant). A name may map to
    a dict of path fragment → value where the same name means different records on different paths."""
    from rpms.appointments.models import SelectionProposal, SignedContract
    from rpms.documents.models import IssuedDocument as Document
    from rpms.suggestions.models import Suggestion

    o = {kind: objs[0] for kind, objs in world["objects"].items()}
    appointment = o["appointment"]
    proposal = SelectionProposal.objects.filter(appointment=appointment).first()
    contract = SignedContract.objects.filter(appointment=appointment).order_by("pk").first()
    document = Document.objects.filter(city=world["city"]).order_by("pk").first()
    return {
        "code": {"/units/subdistricts/": "110108001", "/documents/verify/": document.formatted_code if document else "X",
                 "": world["city"].code},
        "city_code": world["city"].code,
        "district_id": world["district"].pk,
        "unit_id": world["units"]["wanshou"].pk,
        "planner_id": appointment.planner_id,
        "appointment_id": appointment.pk,
        "proposal_id": {"/appointments/proposals/": proposal.pk if proposal else MISSING_ID,
                        "/work-proposals/": o["work_proposal"].pk},
        "assessment_id": o["assessment"].pk,
        "violation_id": o["violation"].pk,
        "cert_id": o["work_certificate"].pk,
        "contract_id": contract.pk if contract else MISSING_ID,
        "record_id": {"/duty-records/": o["duty_record"].pk},
        "request_id": {"/data-requests/": o["data_request"].pk, "/dispatch-requests/": o["dispatch_request"].pk},
        "work_id": o["extra_work"].pk,
        "feedback_id": o["monitoring_feedback"].pk,
        "opinion_id": o["opinion"].pk,
        "suggestion_id": o["suggestion"].pk,
        "tracking_code": Suggestion.objects.get(pk=o["suggestion"].pk).tracking_code,
        "case_id": o["case"].pk,
        "call_id": o["notice"].call_id,
        "notice_id": o["notice"].pk,
        "application_id": o["application"].pk,
        "objection_id": o["objection"].pk,
        "announcement_id": o["announcement"].pk,
        "interpretation_id": o["interpretation"].pk,
        "year": 2026,
    }


def fill(path: str, ids: dict) -> tuple[str, list[str]]:
    """The path with its parameters filled; the names the world had no record for."""
    missing = []

    def value(match):
        name = match.group(1)
        found = ids.get(name)
        if isinstance(found, dict):
            found = next((v for fragment, v in found.items() if fragment in path), None)
        if found is None:
            missing.append(name)
            return str(MISSING_ID)
        return str(found)

    return PLACEHOLDER.sub(value, path), missing


@dataclass
class Tally:
    """Counts a sweep prints (`pytest -s`) and puts in its assertion message."""
    name: str
    tried: int = 0
    failures: list[str] = field(default_factory=list)
    notes: dict = field(default_factory=dict)
    started: tuple = field(default_factory=lambda: (time.monotonic(), time.process_time()))

    def line(self, failed_label: str) -> str:
        extra = "".join(f", {k} {v}" for k, v in self.notes.items())
        wall, cpu = time.monotonic() - self.started[0], time.process_time() - self.started[1]
        return (f"{self.name}: tried {self.tried}, {failed_label} {len(self.failures)}{extra} "
                f"({wall:.1f} s, CPU {cpu:.1f} s)")

    def report(self, failed_label: str) -> str:
        line = self.line(failed_label)
        print(f"\n{line}")
        return line + ("\n" + "\n".join(self.failures[:80]) if self.failures else "")


def call_rolled_back(send):
    """`send()` inside a savepoint rolled back afterwards: (response, audit rows the call wrote)."""
    from django.core.cache import cache
    from django.db import transaction

    from rpms.core.models import ActionLog

    cache.clear()  # rate limits would refuse the later callers of an operation
    with transaction.atomic():
        last = ActionLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = send()
        written = list(ActionLog.objects.filter(pk__gt=last).values_list("action", flat=True))
        transaction.set_rollback(True)
    return response, written
