"""Who may do what with money.

Allowances (P6(3): paid by the city bureau): the finance role is the CITY_ADMIN of the city (records
payments, generates the due rows); auditors of the city read; district officers read their districts'
rows; a planner reads its own. Hiring entities do not see allowances (they do not pay them).

Service fees (B21): the payment schedule is set by the contract's party A (the hiring entity, or the
city bureau where it signs the contract) or by the unit's district work team (or the city
administrator); payments are recorded by party A; the district supervises (reads its districts'
installments, the overdue list). The planner reads its own schedule."""
from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide
from rpms.appointments import permissions as appointment_permissions


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_finance_officer(user, city) -> bool:
    """P6(3): the city bureau pays allowances; its administrators are the finance role."""
    return appointment_permissions.is_city_admin_of(user, city)


def can_read_allowances(user) -> bool:
    return _authenticated(user) and (
        user.is_superuser or user.role in (Role.CITY_ADMIN, Role.AUDITOR, Role.DISTRICT_OFFICER, Role.PLANNER)
    )


def can_view_allowance(user, allowance) -> bool:
    if not _authenticated(user):
        return False
    if is_city_wide(user, allowance.city):
        return True
    if user.role == Role.DISTRICT_OFFICER:
        # counted under one district; every district of the units it covers sees it too
        districts = {allowance.district_id} | {a.unit.district_id for a in allowance.appointments.all()}
        return any(appointment_permissions.is_district_officer_of(user, d) for d in districts)
    if user.role == Role.PLANNER:
        return allowance.planner.user_id == user.pk
    return False


def can_set_fee_schedule(user, appointment) -> bool:
    return (
        appointment_permissions.is_contract_signer(user, appointment)
        or appointment_permissions.is_city_admin_of(user, appointment.city_id)
        or appointment_permissions.is_district_officer_of(user, appointment.unit.district_id)
    )


def can_record_fee_payment(user, appointment) -> bool:
    """B21: the hiring entity pays (party A of the contract)."""
    return appointment_permissions.is_contract_signer(user, appointment)


def can_view_fees(user, appointment) -> bool:
    return appointment_permissions.can_view(user, appointment)
