"""Issue #16 item 9: every operation of /api/v1/openapi.json, called by an anonymous caller and by one user of
every role (rpms.core.roles.Role — the three separated administrators included) with a bearer token: no role
outside the operation's entry in ACCESS gets a 2xx, no call answers 5xx, and no refused call writes anything
(no audit row: every write goes through a service that writes one).

ACCESS documents intent: the roles that may get a 2xx from each operation, read from its require_role /
permission / selector code. An allowed role may still be refused for a record outside its scope (the
cross-district sweep checks that); a role not listed must never succeed. An operation without an entry fails
the sweep by name: deny by default, and a new endpoint is written down here when it is added."""
from __future__ import annotations

import pytest
from django.test import Client

from rpms.core.roles import ADMIN_ROLES, Role
from tests.security.sweep import Tally, call_rolled_back, fill, openapi_operations, world_ids

pytestmark = pytest.mark.django_db

ANON = "anonymous"
ALL_ROLES = frozenset(r.value for r in Role)
# Public: every caller, signed in or not (auth=None; answers pass rpms.core.api.public_answer where they hold text).
ANYONE = ALL_ROLES | {ANON}
# Any signed-in user; the selector scopes the answer to what the user's role and scope reach — for the three
# separated administrators (no city, no district, no unit) that is nothing (checked below: no world record).
SIGNED_IN = ALL_ROLES
C, D, E, P, U = Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY, Role.PLANNER, Role.AUDITOR


def R(*roles) -> frozenset:
    """Only these roles (require_role in the endpoint, or the service's actor check); scoped to their records."""
    return frozenset(r.value for r in roles)


# The business records of the world carry this marker in their text (tests.security.world.MARK).
from tests.security.world import MARK  # noqa: E402

# Operation → the roles that may get a 2xx from it. Read from each endpoint: require_role(...) in config/api.py and
# rpms/*/api.py, else the actor check of the service it calls (services/permissions/selectors).
ACCESS: dict[str, frozenset] = {
    "GET /api/v1/health": ANYONE,
    "POST /api/v1/auth/token": ANYONE,
    "GET /api/v1/cities": ANYONE,
    "GET /api/v1/cities/{code}/policy": ANYONE,
    "PATCH /api/v1/cities/{code}/policy": R(C),
    "POST /api/v1/cities/{code}/eligibility-check": ANYONE,
    "GET /api/v1/cities/{code}/districts": ANYONE,
    "GET /api/v1/cities/{code}/units": ANYONE,
    "GET /api/v1/cities/{code}/coverage": ANYONE,
    "GET /api/v1/units/{unit_id}": R(C, D, U),
    "PATCH /api/v1/units/{unit_id}": R(C, D),
    "POST /api/v1/units/merge": R(C, D),
    "POST /api/v1/units/{unit_id}/split": R(C, D),
    "PATCH /api/v1/units/subdistricts/{code}/zone-type": R(C),
    "GET /api/v1/workdays/add": ANYONE,
    "GET /api/v1/workdays/count": ANYONE,
    "GET /api/v1/workdays/year/{year}": ANYONE,
    "GET /api/v1/audit": R(C, U, Role.AUDIT_ADMIN),
    "GET /api/v1/audit/verify": R(U, Role.AUDIT_ADMIN),
    "GET /api/v1/jobs/{job_id}": R(C),
    "POST /api/v1/accounts/register": ANYONE,
    # Issue #17 item 7: the city administrator's accounts of its city; officers' delegations.
    "GET /api/v1/accounts": R(C),
    "POST /api/v1/accounts": R(C),
    "GET /api/v1/accounts/{account_id}": R(C),
    "PATCH /api/v1/accounts/{account_id}": R(C),
    "POST /api/v1/accounts/{account_id}/deactivate": R(C),
    "POST /api/v1/accounts/{account_id}/reactivate": R(C),
    "POST /api/v1/accounts/{account_id}/reset-password": R(C),
    "GET /api/v1/delegations": R(C, D, E),
    "POST /api/v1/delegations": R(D, E),
    "POST /api/v1/delegations/{delegation_id}/revoke": R(C, D, E),
    "POST /api/v1/cities/{code}/calls": R(C),
    "GET /api/v1/cities/{code}/calls": ANYONE,
    "GET /api/v1/calls/{call_id}": ANYONE,
    "POST /api/v1/calls/{call_id}/eligibility-check": ANYONE,
    "GET /api/v1/calls/{call_id}/application-defaults": R(P),
    "POST /api/v1/calls/{call_id}/applications": R(P),
    "GET /api/v1/calls/{call_id}/applications": R(C, U),
    "GET /api/v1/applications/{application_id}": R(C, U),
    "POST /api/v1/applications/{application_id}/proofs": R(P),
    "GET /api/v1/applications/{application_id}/proofs/{proof_id}": R(C, P, U),
    "POST /api/v1/applications/{application_id}/review": R(C),
    "POST /api/v1/calls/{call_id}/notices": R(C),
    "POST /api/v1/calls/{call_id}/notices/recorded": R(C),
    "GET /api/v1/notices/{notice_id}/evidence": R(C, U),
    "GET /api/v1/notices/{notice_id}": ANYONE,
    "POST /api/v1/notices/{notice_id}/objections": ANYONE,
    "POST /api/v1/objections/{objection_id}/resolve": R(C),
    "POST /api/v1/notices/{notice_id}/close": R(C),
    "GET /api/v1/cities/{code}/pool": R(C, D, U),
    "GET /api/v1/pool/{planner_id}": R(C, P, U),
    "POST /api/v1/pool/{planner_id}/remove": R(C),
    "POST /api/v1/pool/{planner_id}/leave": R(C, P),
    "POST /api/v1/pool/{planner_id}/members": R(C),
    "GET /api/v1/exceptions": SIGNED_IN,
    "GET /api/v1/exceptions/{exception_id}": R(C, D, E, P, U),
    "POST /api/v1/exceptions/{exception_id}/approve": R(C, D),
    "POST /api/v1/exceptions/{exception_id}/refuse": R(C, D),
    "POST /api/v1/cities/{code}/pool/commission": R(C),
    "POST /api/v1/cities/{code}/pool/imports": R(C),
    "GET /api/v1/pool/imports/{import_id}": R(C, U),
    "POST /api/v1/pool/imports/{import_id}/run": R(C),
    # Issue #17 item 8: a planner's own profile, the city's verification of eligibility changes, teams.
    "GET /api/v1/planners/me/profile": R(P),
    "PATCH /api/v1/planners/me/profile": R(P),
    "POST /api/v1/profile-changes": R(P),
    "GET /api/v1/profile-changes": R(C, P, U),
    "GET /api/v1/profile-changes/{change_id}": R(C, P, U),
    "GET /api/v1/profile-changes/{change_id}/proof": R(C, P, U),
    "POST /api/v1/profile-changes/{change_id}/approve": R(C),
    "POST /api/v1/profile-changes/{change_id}/reject": R(C),
    "GET /api/v1/teams/{team_id}": R(C, P, U),
    "PATCH /api/v1/teams/{team_id}": R(C, P),
    "POST /api/v1/teams/{team_id}/members": R(C, P),
    "PATCH /api/v1/teams/{team_id}/members/{member_id}": R(C, P),
    "DELETE /api/v1/teams/{team_id}/members/{member_id}": R(C, P),
    "POST /api/v1/teams/{team_id}/members/{member_id}/invite": R(C, P),
    "POST /api/v1/team-invitations/accept": R(P),
    "GET /api/v1/documents/verify/{code}": ANYONE,
    "POST /api/v1/cities/{code}/dispatch-requests": R(D),
    "GET /api/v1/cities/{code}/dispatch-requests": R(C, D, U),
    "GET /api/v1/dispatch-requests/{request_id}": R(C, D, U),
    "POST /api/v1/dispatch-requests/{request_id}/accept": R(C),
    "POST /api/v1/dispatch-requests/{request_id}/return": R(C),
    "POST /api/v1/dispatch-requests/{request_id}/withdraw": R(D),
    "POST /api/v1/cities/{code}/matching": R(C),
    "GET /api/v1/matching-runs/{run_id}": R(C, D, U),
    "POST /api/v1/proposals/{proposal_id}/confirm": R(C, D),
    "POST /api/v1/proposals/{proposal_id}/replace": R(C, D),
    "POST /api/v1/conflicts": R(C, D, P),
    "GET /api/v1/conflicts": R(C, D, P, U),
    "POST /api/v1/conflicts/{conflict_id}/withdraw": R(C, D, P),
    "GET /api/v1/dispatch/replacement-proposals": R(C),
    "POST /api/v1/appointments": R(C),
    "GET /api/v1/appointments": SIGNED_IN,
    "POST /api/v1/cities/{code}/appointments/imports": R(C),
    "GET /api/v1/appointments/imports/{import_id}": R(C, U),
    "POST /api/v1/appointments/imports/{import_id}/run": R(C),
    "GET /api/v1/appointments/{appointment_id}": R(C, D, E, P, U),
    "GET /api/v1/appointments/{appointment_id}/certificate.pdf": R(C, D, E, P, U),
    "GET /api/v1/appointments/{appointment_id}/dispatch-notice.pdf": R(C, D, E, P, U),
    "GET /api/v1/appointments/{appointment_id}/contract.pdf": R(C, D, E, P, U),
    "POST /api/v1/appointments/{appointment_id}/file": R(C, D),
    "POST /api/v1/appointments/{appointment_id}/signed-contract": R(C, E),
    "GET /api/v1/appointments/{appointment_id}/signed-contract": R(C, D, E, P, U),
    "GET /api/v1/appointments/{appointment_id}/signed-contracts/{contract_id}": R(C, D, E, P, U),
    "POST /api/v1/appointments/{appointment_id}/file/return": R(C, D),
    "POST /api/v1/appointments/proposals": R(E),
    "GET /api/v1/appointments/proposals": SIGNED_IN,
    "GET /api/v1/appointments/proposals/{proposal_id}": R(C, D, E, U),
    "GET /api/v1/appointments/selection/candidates": R(C, D),
    "POST /api/v1/appointments/proposals/{proposal_id}/approve": R(D),
    "POST /api/v1/appointments/proposals/{proposal_id}/return": R(D),
    "POST /api/v1/appointments/proposals/{proposal_id}/withdraw": R(E),
    "POST /api/v1/appointments/{appointment_id}/renew": R(C, D, E),
    "POST /api/v1/appointments/{appointment_id}/withdrawal-notice": R(C, E),
    "POST /api/v1/appointments/{appointment_id}/terminate": R(C, D, E, P),
    "POST /api/v1/appointments/{appointment_id}/terminate/evidence": R(C, D, E, P),
    "GET /api/v1/appointments/{appointment_id}/terminate/evidence/{evidence_id}": R(C, D, E, P, U),
    "POST /api/v1/appointments/{appointment_id}/terminate/consent": R(C, D, E, P),
    "POST /api/v1/appointments/{appointment_id}/terminate/refuse": R(C, D, E, P),
    "POST /api/v1/appointments/{appointment_id}/terminate/withdraw": R(C, D, E, P),
    "POST /api/v1/appointments/{appointment_id}/terminate/statement": R(C, D, E, P),
    "POST /api/v1/appointments/{appointment_id}/withdrawal": R(C, D, E, P),
    "GET /api/v1/withdrawals": SIGNED_IN,
    "GET /api/v1/withdrawals/{withdrawal_id}/proposals": R(C, D, E),
    "POST /api/v1/withdrawals/{withdrawal_id}/replacement": R(C, D, E),
    "GET /api/v1/removals": SIGNED_IN,
    "GET /api/v1/removals/{appointment_id}/proposals": R(C, D, E),
    "POST /api/v1/removals/{appointment_id}/replacement": R(C, D, E),
    "POST /api/v1/districts/{district_id}/chief": R(C, D),
    "GET /api/v1/public/units/{unit_id}": ANYONE,
    "GET /api/v1/duty-records": SIGNED_IN,
    "POST /api/v1/duty-records": R(P),
    "GET /api/v1/duty-records/options": R(C, D, E, P, U),
    "GET /api/v1/duty-records/summary": SIGNED_IN,
    "GET /api/v1/duty-records/unit-summary": R(C, D, E, U),
    "GET /api/v1/duty-records/calendar": SIGNED_IN,
    "GET /api/v1/duty-records/{record_id}": R(C, D, E, P, U),
    "PATCH /api/v1/duty-records/{record_id}": R(P),
    "DELETE /api/v1/duty-records/{record_id}": R(P),
    "POST /api/v1/duty-records/{record_id}/evidence": R(P),
    "GET /api/v1/duty-records/{record_id}/evidence/{evidence_id}": R(C, D, E, P, U),
    "POST /api/v1/duty-records/{record_id}/confirm": R(D, E),
    "POST /api/v1/duty-records/{record_id}/query": R(D, E),
    "POST /api/v1/duty-records/{record_id}/answer": R(P),
    "GET /api/v1/data-requests": SIGNED_IN,
    "POST /api/v1/data-requests": R(P),
    "GET /api/v1/data-requests/{request_id}": R(C, D, E, P, U),
    "POST /api/v1/data-requests/{request_id}/deliver": R(D, E),
    "POST /api/v1/data-requests/{request_id}/materials": R(D, E),
    "POST /api/v1/data-requests/{request_id}/refuse": R(D, E),
    "GET /api/v1/data-requests/{request_id}/materials/{material_id}": R(C, D, E, P, U),
    "GET /api/v1/data-requests/{request_id}/downloads": R(C, D, E, P, U),
    "GET /api/v1/work-certificates": SIGNED_IN,
    "POST /api/v1/work-certificates": R(E),
    "GET /api/v1/work-certificates/preview": R(E),
    "GET /api/v1/work-certificates/{cert_id}.pdf": R(C, D, E, P, U),
    "GET /api/v1/work-certificates/{cert_id}": R(C, D, E, P, U),
    "POST /api/v1/work-certificates/{cert_id}/revoke": R(D, E),
    "GET /api/v1/extra-work": SIGNED_IN,
    "POST /api/v1/extra-work": R(D, E, P),
    "GET /api/v1/extra-work/{work_id}": R(C, D, E, P, U),
    "PATCH /api/v1/extra-work/{work_id}": R(D, E, P),
    "POST /api/v1/extra-work/{work_id}/status": R(D, E, P),
    "GET /api/v1/monitoring-feedback": SIGNED_IN,
    "POST /api/v1/monitoring-feedback": R(P),
    "GET /api/v1/monitoring-feedback/{feedback_id}": R(C, D, E, P, U),
    "POST /api/v1/monitoring-feedback/{feedback_id}/answer": R(C, D),
    "GET /api/v1/opinions": SIGNED_IN,
    "POST /api/v1/opinions": R(P),
    "GET /api/v1/opinions/inbox": SIGNED_IN,
    "GET /api/v1/opinions/{opinion_id}.pdf": R(C, D, E, P, U),
    "GET /api/v1/opinions/{opinion_id}": R(C, D, E, P, U),
    "PATCH /api/v1/opinions/{opinion_id}": R(P),
    "DELETE /api/v1/opinions/{opinion_id}": R(P),
    "POST /api/v1/opinions/{opinion_id}/declaration": R(P),
    "POST /api/v1/opinions/{opinion_id}/issue": R(P),
    "POST /api/v1/opinions/{opinion_id}/supersede": R(P),
    "POST /api/v1/opinions/{opinion_id}/response": R(C, D, E),
    "POST /api/v1/opinions/{opinion_id}/read": R(D, E),
    "POST /api/v1/opinions/{opinion_id}/attachments": R(P),
    "GET /api/v1/opinions/{opinion_id}/attachments/{attachment_id}": R(C, D, E, P, U),
    "DELETE /api/v1/opinions/{opinion_id}/attachments/{attachment_id}": R(P),
    "GET /api/v1/public/units/{unit_id}/suggestions": ANYONE,
    "POST /api/v1/public/units/{unit_id}/suggestions": ANYONE,
    "GET /api/v1/public/suggestions/{tracking_code}": ANYONE,
    "GET /api/v1/suggestions": R(C, D, P, U),
    "GET /api/v1/suggestions/{suggestion_id}": R(C, D, P, U),
    "GET /api/v1/suggestions/{suggestion_id}/photos/{photo_id}": R(C, D, P, U),
    "POST /api/v1/suggestions/{suggestion_id}/reply": R(C, D, P),
    "POST /api/v1/suggestions/{suggestion_id}/forward": R(C, D, P),
    "POST /api/v1/suggestions/{suggestion_id}/department-answer": R(C, D, P),
    "POST /api/v1/suggestions/{suggestion_id}/close": R(D, P),
    "POST /api/v1/suggestions/{suggestion_id}/hide": R(C),
    "POST /api/v1/suggestions/{suggestion_id}/unhide": R(C),
    "POST /api/v1/suggestions/{suggestion_id}/release": R(C, D),
    "GET /api/v1/work-proposals": R(C, D, E, P, U),
    "POST /api/v1/work-proposals": R(E, P),
    "GET /api/v1/work-proposals/{proposal_id}": R(C, D, E, P, U),
    "POST /api/v1/work-proposals/{proposal_id}/acknowledge": R(E, P),
    "GET /api/v1/assessments": SIGNED_IN,
    "POST /api/v1/assessments": R(C, D, E),
    "GET /api/v1/assessments/due": SIGNED_IN,
    "GET /api/v1/assessments/{assessment_id}": R(C, D, E, P, U),
    "POST /api/v1/assessments/{assessment_id}/scores": R(C, D, E),
    "POST /api/v1/assessments/{assessment_id}/self-report": R(P),
    "POST /api/v1/assessments/{assessment_id}/feedback": R(E),
    "POST /api/v1/assessments/{assessment_id}/absences": R(C, D),
    "POST /api/v1/assessments/{assessment_id}/renewal-condition": R(D, E),
    "POST /api/v1/assessments/{assessment_id}/grade": R(C, D),
    "GET /api/v1/assessments/{assessment_id}/result.pdf": R(C, D, E, P, U),
    "GET /api/v1/violations": SIGNED_IN,
    "POST /api/v1/violations": R(C, D),
    "GET /api/v1/violations/{violation_id}": R(C, D, P, U),
    "POST /api/v1/violations/{violation_id}/report": R(C, D),
    "GET /api/v1/replacement-flags": SIGNED_IN,
    "POST /api/v1/replacement-flags/{flag_id}/resolve": R(C, D),
    "GET /api/v1/district-assessments": R(C, D),
    "POST /api/v1/district-assessments": R(C),
    "GET /api/v1/district-assessments/{record_id}": R(C, D, U),
    "GET /api/v1/honours": ANYONE,
    "POST /api/v1/honours": R(C, D, E),
    "POST /api/v1/honours/publish": R(C),
    "POST /api/v1/honours/{honour_id}/decision": R(C),
    "GET /api/v1/honours/{honour_id}/certificate.pdf": R(C, D, E, P, U),
    "GET /api/v1/allowances": R(C, D, P, U),
    "GET /api/v1/allowances/summary": R(C, D, P, U),
    "POST /api/v1/allowances/generate": R(C),
    "GET /api/v1/allowances/reconciliations": R(C, D, P, U),
    "GET /api/v1/allowances/{allowance_id}": R(C, D, P, U),
    "POST /api/v1/allowances/{allowance_id}/pay": R(C, D),
    "GET /api/v1/fee-payments": SIGNED_IN,
    "GET /api/v1/fee-schedules/{appointment_id}": R(C, D, E, P, U),
    "PUT /api/v1/fee-schedules/{appointment_id}": R(C, E),
    "POST /api/v1/fee-payments/{installment_id}/pay": R(C, E),
    "GET /api/v1/training/hours": R(C, D, E, P, U),
    "GET /api/v1/training/records": SIGNED_IN,
    "POST /api/v1/training/records": R(P),
    "GET /api/v1/training/records/{record_id}": R(C, D, E, P, U),
    "DELETE /api/v1/training/records/{record_id}": R(P),
    "POST /api/v1/training/records/{record_id}/confirm": R(C, D),
    "POST /api/v1/training/records/{record_id}/reject": R(C, D),
    "POST /api/v1/training/certificates": R(C),
    "GET /api/v1/training/certificates/{certificate_id}/pdf": R(C, D, P, U),
    "GET /api/v1/training/courses": SIGNED_IN,
    "POST /api/v1/training/courses": R(C),
    "GET /api/v1/training/courses/{course_id}": R(C, D, E, P, U),
    "PUT /api/v1/training/courses/{course_id}": R(C),
    "POST /api/v1/training/courses/{course_id}/publish": R(C),
    "POST /api/v1/training/courses/{course_id}/unpublish": R(C),
    "POST /api/v1/training/courses/{course_id}/materials": R(C),
    "DELETE /api/v1/training/materials/{material_id}": R(C),
    "POST /api/v1/training/courses/{course_id}/enrol": R(P),
    "POST /api/v1/training/courses/{course_id}/complete": R(P),
    "POST /api/v1/training/courses/{course_id}/attendance": R(C),
    "GET /api/v1/training/materials/{material_id}/file": R(C, P),
    "POST /api/v1/training/materials/{material_id}/finish": R(P),
    "GET /api/v1/cities/{code}/statistics": R(C, D, U),
    "GET /api/v1/cities/{code}/statistics/export": R(C, D, U),
    "GET /api/v1/public/datasets": ANYONE,
    "GET /api/v1/public/appointments/fields": ANYONE,
    "GET /api/v1/public/appointments.json": ANYONE,
    "GET /api/v1/public/appointments.csv": ANYONE,
    "GET /api/v1/public/units/fields": ANYONE,
    "GET /api/v1/public/units.json": ANYONE,
    "GET /api/v1/public/units.csv": ANYONE,
    "GET /api/v1/public/coverage/fields": ANYONE,
    "GET /api/v1/public/coverage.json": ANYONE,
    "GET /api/v1/public/coverage.csv": ANYONE,
    "GET /api/v1/public/notices/fields": ANYONE,
    "GET /api/v1/public/notices.json": ANYONE,
    "GET /api/v1/public/notices.csv": ANYONE,
    "GET /api/v1/public/honours/fields": ANYONE,
    "GET /api/v1/public/honours.json": ANYONE,
    "GET /api/v1/public/honours.csv": ANYONE,
    "GET /api/v1/public/suggestion-stats/fields": ANYONE,
    "GET /api/v1/public/suggestion-stats.json": ANYONE,
    "GET /api/v1/public/suggestion-stats.csv": ANYONE,
    "GET /api/v1/public/announcements": ANYONE,
    "GET /api/v1/public/announcements/{announcement_id}": ANYONE,
    "GET /api/v1/public/policies/{city_code}": ANYONE,
    "POST /api/v1/announcements": R(C),
    "POST /api/v1/announcements/{announcement_id}/publish": R(C),
    "POST /api/v1/announcements/{announcement_id}/withdraw": R(C),
    "POST /api/v1/announcements/{announcement_id}/attachments": R(C),
    "POST /api/v1/interpretations": R(C),
    "POST /api/v1/interpretations/{interpretation_id}/publish": R(C),
    "POST /api/v1/interpretations/{interpretation_id}/withdraw": R(C),
    "GET /api/v1/cases": ANYONE,
    "GET /api/v1/cases/{case_id}": ANYONE,
    "GET /api/v1/case-submissions": R(C, D, P, U),
    "POST /api/v1/case-submissions": R(P),
    "GET /api/v1/case-submissions/{case_id}": R(C, D, P, U),
    "POST /api/v1/case-submissions/{case_id}/revise": R(P),
    "POST /api/v1/case-submissions/{case_id}/review": R(C),
    "POST /api/v1/case-submissions/{case_id}/unpublish": R(C),
    "GET /api/v1/notifications": SIGNED_IN,
    "POST /api/v1/notifications/read": SIGNED_IN,
    "POST /api/v1/notifications/{notification_id}/read": SIGNED_IN,
}

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def test_no_role_outside_an_operations_entry_gets_a_2xx(world, role_callers, bearer):
    client = Client()
    operations = openapi_operations(client)
    ids = world_ids(world)
    headers = {role: (bearer(user) if user is not None else {}) for role, user in role_callers.items()}
    tally = Tally("角色×接口巡检（role × endpoint sweep）")
    missing_params, unlisted = set(), []
    for method, path in operations:
        key = f"{method} {path}"
        allowed = ACCESS.get(key)
        if allowed is None:
            unlisted.append(key)
            allowed = frozenset()
        url, missing = fill(path, ids)
        missing_params.update(missing)
        for role, extra in headers.items():
            kwargs = {"content_type": "application/json", "data": "{}"} if method in UNSAFE else {}

            def send():
                return getattr(client, method.lower())(url, **kwargs, **extra)

            response, written = call_rolled_back(send)
            tally.tried += 1
            status = response.status_code
            if status >= 500:
                tally.failures.append(f"{key} as {role}: {status} (server error)")
            elif 200 <= status < 300 and role not in allowed:
                tally.failures.append(f"{key} as {role}: unexpected {status}")
            elif (200 <= status < 300 and role in ADMIN_ROLES and allowed != ANYONE
                  and MARK in response.content.decode("utf-8", errors="replace")):
                tally.failures.append(f"{key} as {role}: a separated administrator read a business record")
            elif not 200 <= status < 300 and written:
                tally.failures.append(f"{key} as {role}: refused with {status} but wrote {written}")
    tally.notes = {"operations": len(operations), "roles": len(headers), "no entry in ACCESS": len(unlisted),
                   "parameters without a world record": len(missing_params)}
    for key in unlisted:
        tally.failures.append(f"{key}: no entry in ACCESS (deny by default: write down who may call it)")
    for key in sorted(set(ACCESS) - {f"{m} {p}" for m, p in operations}):
        tally.failures.append(f"{key}: in ACCESS but no longer in the API document (remove the entry)")
    message = tally.report("unexpected")
    assert len(operations) > 250, message
    assert tally.failures == [], message
