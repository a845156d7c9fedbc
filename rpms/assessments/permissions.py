"""Who may do what in assessments, violations, district assessments and honours.

Assessment (B20, P6(4)) — the assessing body comes from the policy (models.AssessingBody):
    open and grade      district: the district officer of the unit's district;
                        city_with_district: the city administrator of the city
    score               the hiring entity of the unit (属地反馈), the district officer of the unit's
                        district, and where the city leads, the city administrator
    述职 (self report)  the planner of the appointment
    属地反馈 (feedback) the hiring entity of the unit (a written opinion; its scores are apart)
    absence of an input the assessing body (opens and grades), after the input's deadline
    renewal condition   the contract signer (B20: 聘任主体可将考核结果纳入续聘条件)
    read                city administrators and auditors of the city, the district officers of the
                        unit's district, the unit's hiring entity, the planner; anyone else 404
Violations (B17): recorded by the district officers of the district or the city administrators;
read by them and the auditors, and by the planner concerned (its own).
District assessment (B20): the city administrator records; the district reads its own.
Honours (B24): the district officer nominates from its district; the city administrator decides and
publishes; the published list is public."""
from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide
from rpms.appointments import permissions as appointment_permissions

from .models import AssessingBody, ScoreSource


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def assessing_body_for(city) -> str:
    """The city bureau leads where it dispatches planners or signs their contracts, or where there is no
    district work team (P6(4)); otherwise the district work team assesses (B20). The same rule names
    the issuer of the result (rpms.documents.issuers)."""
    from rpms.documents.issuers import assessment_led_by_city

    if assessment_led_by_city(city):
        return AssessingBody.CITY_WITH_DISTRICT
    return AssessingBody.DISTRICT


def is_city_admin_of(user, city) -> bool:
    return appointment_permissions.is_city_admin_of(user, city)


def is_district_officer_of(user, district) -> bool:
    return appointment_permissions.is_district_officer_of(user, district)


def is_lead(user, *, city, district, assessing_body: str) -> bool:
    """The body that opens and grades."""
    if _authenticated(user) and user.is_superuser:
        return True
    if assessing_body == AssessingBody.CITY_WITH_DISTRICT:
        return is_city_admin_of(user, city)
    return is_district_officer_of(user, district)


def can_open(user, appointment) -> bool:
    return is_lead(user, city=appointment.city, district=appointment.unit.district_id,
                   assessing_body=assessing_body_for(appointment.city))


def can_grade(user, assessment) -> bool:
    return is_lead(user, city=assessment.city, district=assessment.district_id, assessing_body=assessment.assessing_body)


def is_planner_of(user, assessment) -> bool:
    return _authenticated(user) and assessment.planner.user_id is not None and assessment.planner.user_id == user.pk


def is_hiring_entity_of(user, unit) -> bool:
    return appointment_permissions.is_hiring_entity_of(user, unit)


def can_give_feedback(user, assessment) -> bool:
    """属地反馈 (P6(4)): a hiring-entity user of the unit's current subdistricts."""
    return _authenticated(user) and user.role == Role.HIRING_ENTITY and is_hiring_entity_of(user, assessment.unit)


def score_source_for(user, assessment) -> str | None:
    """Which body's scores the user gives on this assessment, or None."""
    if not _authenticated(user):
        return None
    if user.role == Role.HIRING_ENTITY and is_hiring_entity_of(user, assessment.unit):
        return ScoreSource.ENTITY
    if user.role == Role.DISTRICT_OFFICER and is_district_officer_of(user, assessment.district_id):
        return ScoreSource.DISTRICT
    if assessment.assessing_body == AssessingBody.CITY_WITH_DISTRICT and (
        user.is_superuser or (user.role == Role.CITY_ADMIN and user.city_id == assessment.city_id)
    ):
        return ScoreSource.CITY
    return None


def can_set_renewal_condition(user, assessment) -> bool:
    return appointment_permissions.is_contract_signer(user, assessment.appointment)


def can_view_assessment(user, assessment) -> bool:
    if not _authenticated(user):
        return False
    return (
        is_city_wide(user, assessment.city)
        or is_district_officer_of(user, assessment.district_id)
        or is_hiring_entity_of(user, assessment.unit)
        or is_planner_of(user, assessment)
    )


def can_record_violation(user, city) -> bool:
    return _authenticated(user) and (user.is_superuser or (user.role == Role.CITY_ADMIN and user.city_id == city.pk)
                                     or (user.role == Role.DISTRICT_OFFICER and user.city_id in (None, city.pk)))


def can_manage_violation(user, violation) -> bool:
    if is_city_admin_of(user, violation.city):
        return True
    return violation.district_id is not None and is_district_officer_of(user, violation.district_id)


def can_view_violation(user, violation) -> bool:
    if not _authenticated(user):
        return False
    if is_city_wide(user, violation.city) or can_manage_violation(user, violation):
        return True
    return violation.planner.user_id is not None and violation.planner.user_id == user.pk


def can_resolve_flag(user, flag) -> bool:
    return is_city_admin_of(user, flag.city) or is_district_officer_of(user, flag.district_id)


def can_nominate(user, district) -> bool:
    return _authenticated(user) and (user.is_superuser or is_district_officer_of(user, district))
