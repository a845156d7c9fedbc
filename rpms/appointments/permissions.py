"""Who may do what with an appointment. The parties: the city administrator; the district officer
of the unit's district (receives filings, B19(3); in a city where units select their own planners —
Beijing's local selection — also appoints); the hiring entity of the unit (街道/乡镇/园区 user of one
of its subdistricts: signs the contract where the policy says so, consents to termination, B25);
the planner (its own user: withdrawal, termination request)."""
from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide
from rpms.cities.models import AppointmentMode, ContractSigner


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_city_admin_of(user, city) -> bool:
    if not _authenticated(user):
        return False
    if user.is_superuser:
        return True
    return user.role == Role.CITY_ADMIN and user.city_id == getattr(city, "pk", city)


def is_district_officer_of(user, district) -> bool:
    if not _authenticated(user) or user.role != Role.DISTRICT_OFFICER:
        return False
    cached = getattr(user, "_appointment_district_ids", None)
    if cached is None:
        cached = set(user.districts.values_list("pk", flat=True))
        user._appointment_district_ids = cached
    return getattr(district, "pk", district) in cached


def entity_subdistrict_ids(user) -> set[int]:
    if not _authenticated(user) or user.role != Role.HIRING_ENTITY:
        return set()
    cached = getattr(user, "_appointment_subdistrict_ids", None)
    if cached is None:
        cached = set(user.subdistricts.values_list("pk", flat=True))
        user._appointment_subdistrict_ids = cached
    return cached


def unit_subdistrict_ids(unit) -> set[int]:
    return {s.pk for s in unit.current_subdistricts}


def is_hiring_entity_of(user, unit) -> bool:
    """A hiring-entity user of one of the unit's current subdistricts."""
    mine = entity_subdistrict_ids(user)
    return bool(mine) and bool(mine & unit_subdistrict_ids(unit))


def is_planner_of(user, appointment) -> bool:
    return _authenticated(user) and appointment.planner.user_id is not None and appointment.planner.user_id == user.pk


def can_appoint(user, unit) -> bool:
    """City administrator; in a local-selection city also the unit's district officer (B19(5))."""
    if is_city_admin_of(user, unit.city_id):
        return True
    if unit.city.policy.appointment_mode == AppointmentMode.LOCAL_SELECTION:
        return is_district_officer_of(user, unit.district_id)
    return False


def can_enter_existing(user, unit) -> bool:
    """Entering a running contract with its history (rpms.appointments.existing): the city
    administrator; in a local-selection city also the unit's district officer (B19(5))."""
    if is_city_admin_of(user, unit.city_id):
        return True
    if unit.city.policy.appointment_mode == AppointmentMode.LOCAL_SELECTION:
        return is_district_officer_of(user, unit.district_id)
    return False


def may_import_existing(user, city) -> bool:
    """Who may use the bulk import of running contracts of `city` (each row is then checked with
    `can_enter_existing` for its unit)."""
    if is_city_admin_of(user, city):
        return True
    return (
        _authenticated(user) and user.role == Role.DISTRICT_OFFICER and user.city_id == getattr(city, "pk", city)
        and city.policy.appointment_mode == AppointmentMode.LOCAL_SELECTION
    )


def is_contract_signer(user, appointment) -> bool:
    """The contract's party A: the hiring entity of the unit, or the city administrator where the
    city bureau signs (policy contract_signer)."""
    if _authenticated(user) and user.is_superuser:
        return True
    if appointment.city.policy.contract_signer == ContractSigner.HIRING_ENTITY:
        return is_hiring_entity_of(user, appointment.unit)
    return is_city_admin_of(user, appointment.city_id)


def can_renew(user, appointment) -> bool:
    return is_contract_signer(user, appointment) or is_city_admin_of(user, appointment.city_id)


def can_file(user, appointment) -> bool:
    return is_city_admin_of(user, appointment.city_id) or is_district_officer_of(user, appointment.unit.district_id)


def can_view(user, appointment) -> bool:
    if not _authenticated(user):
        return False
    return (
        is_city_wide(user, appointment.city)
        or is_district_officer_of(user, appointment.unit.district_id)
        or is_planner_of(user, appointment)
        or is_hiring_entity_of(user, appointment.unit)
    )


def can_name_district_chief(user, district) -> bool:
    return is_city_admin_of(user, district.city_id) or is_district_officer_of(user, district)
