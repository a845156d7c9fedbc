"""Server-side set-up for the browser journeys, always through the services (so the pages see what the
real acts leave behind). The reference data (both cities' policies and geography) comes from the root
conftest's `reference` fixture."""
import datetime as dt
import itertools

from django.utils import timezone

from rpms.accounts.models import Role, User

ROLE = "responsible_planner"
_seq = itertools.count(1)


def today() -> dt.date:
    return timezone.localdate()


def unit_of(city, subdistrict_code):
    """The active responsibility unit that holds the subdistrict with this code."""
    from rpms.geography.models import ResponsibilityUnit

    return ResponsibilityUnit.objects.select_related("district").get(
        city=city, dissolved_at__isnull=True, memberships__subdistrict__code=subdistrict_code,
        memberships__left_at__isnull=True,
    )


def units_of(district, n=None):
    from rpms.geography.models import ResponsibilityUnit

    units = ResponsibilityUnit.objects.filter(district=district, dissolved_at__isnull=True).order_by("pk")
    return list(units[:n] if n else units)


def pool_member(city, name, *, districts=(), with_account=False, specialties=("urban_rural_planning",),
                experience_years=8):
    """An active member of the city's pool (registry service), optionally with a planner account."""
    from rpms.registry.services import planner_create

    n = next(_seq)
    user = None
    if with_account:
        user = User.objects.create_user(username=f"br_planner_{n}", password=None, role=Role.PLANNER, city=city,
                                        display_name=name)
    return planner_create(
        actor=None, city=city, name=name, familiar_districts=list(districts), pool_status="active",
        specialties=list(specialties), experience_years=experience_years, employer=f"虚构规划设计研究院{n}",
        is_fictional=True, user=user,
    )


def appoint(admin, planner, unit, *, start=None, filed_by=None):
    """An appointment through the city's path (rpms.testing.builders: Beijing's street office proposes and
    the district approves; elsewhere `admin` appoints) with its dispatch notice, certificate and contract;
    if `filed_by`, the signed contract is submitted and filed, which puts it on the public pages."""
    from rpms.testing.builders import appointment_build

    return appointment_build(unit=unit, planner=planner, role=ROLE, start=start or today(), actor=admin,
                             filed=filed_by is not None, filer=filed_by)


# --- recruitment ---------------------------------------------------------------------------------------


def fictional_id_number(n: int, *, region: str = "110108", birth: str = "19850101") -> str:
    from rpms.core.identity import id_number_checksum

    first17 = f"{region}{birth}{n % 1000:03d}"
    return first17 + id_number_checksum(first17)


def beijing_application_data(name: str, n: int) -> dict:
    """An eligible Beijing individual (B18: a registered planner with 6 years in the field)."""
    return {
        "kind": "individual", "name": name, "id_number": fictional_id_number(n), "mobile": f"139{n:08d}",
        "email": f"applicant{n}@example.invalid", "employer": "虚构规划设计研究院", "degree": "master",
        "major": "城乡规划学", "degree_field": "urban_rural_planning", "title_level": "intermediate",
        "title_field": "urban_rural_planning", "registrations": ["registered_planner"], "experience_years": 6,
        "specialties": ["urban_rural_planning", "urban_renewal"], "districts": ["110108"],
        "declarations": ["familiarity", "commitment"],
    }


def open_call(admin, city, *, deadline, title=None):
    from rpms.recruitment import services

    return services.call_create(
        actor=admin, city=city, title=title or f"{city.name}责任规划师公开征集（浏览器测试）", kind="open",
        requirements="具备城乡规划相关专业背景，熟悉本市规划。", specialties=["urban_rural_planning"], deadline=deadline,
    )


def notice_with_candidates(admin, city, *, start, names):
    """A published call, approved applications for `names` and their public notice starting `start`
    (the system's clock must already read `start`). Returns (notice, {name: application})."""
    from rpms.recruitment import services

    call = open_call(admin, city, deadline=start + dt.timedelta(days=10))
    applications = {}
    for name in names:
        n = next(_seq)
        user = User.objects.create_user(username=f"br_applicant_{n}", password=None, role=Role.PLANNER, city=city,
                                        display_name=name)
        application = services.application_submit(actor=user, call=call, data=beijing_application_data(name, n))
        applications[name] = services.application_review(
            actor=admin, application=application, decision="approve", reason="符合条件",
            scores={"background": 80, "title": 70, "experience": 75, "local_familiarity": 60},
        )
    notice = services.notice_publish(actor=admin, call=call, start=start)
    return notice, applications


# --- dispatch ------------------------------------------------------------------------------------------


def accepted_request(officer, admin, units, *, specialties=("urban_rural_planning",), service_focus=""):
    from rpms.dispatch.services import dispatch_request_accept, dispatch_request_submit

    district = units[0].district
    request = dispatch_request_submit(
        actor=officer, city=district.city, district=district, role=ROLE, units=units, specialties=list(specialties),
        slots_per_unit=1, service_focus=service_focus,
    )
    return dispatch_request_accept(actor=admin, request=request)
