"""Recruitment reads, scoped here once.

Public: published calls, published notices (name, employer, title, specialties of candidates and
the published findings — never an ID number, mobile or an objector's contact details).
Management: city administrators of the record's city act; auditors (and city administrators) of
the city read. A record of another city is answered 404, never revealed."""
from django.db.models import Case, Count, IntegerField, OuterRef, Prefetch, Subquery, Value, When

from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide
from rpms.core.crypto import blind_index
from rpms.core.errors import Forbidden, NotFound

from .models import (
    Application,
    ApplicationStatus,
    CallStatus,
    NoticeEntry,
    Objection,
    OpenCall,
    PublicNotice,
)


def is_city_admin_of(user, city) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return user.role == Role.CITY_ADMIN and user.city_id == getattr(city, "pk", city)


def require_city_admin(user, city) -> None:
    """Acting on a city's recruitment: its city administrators only. Another city's → 404."""
    if not getattr(user, "is_authenticated", False) or not (user.is_superuser or user.role == Role.CITY_ADMIN):
        raise Forbidden("只有市级管理员可以办理征集与入库。")
    if not is_city_admin_of(user, city):
        raise NotFound()


def require_reader(user, city) -> None:
    """Reading a city's recruitment records: city administrators and auditors of the city."""
    if not getattr(user, "is_authenticated", False) or not (
        user.is_superuser or user.role in (Role.CITY_ADMIN, Role.AUDITOR)
    ):
        raise Forbidden("您的角色无权查看征集与入库的办理记录。")
    if not is_city_wide(user, city):
        raise NotFound()


# --- calls ------------------------------------------------------------------------------------------


def public_call_list(*, city=None):
    queryset = OpenCall.objects.filter(status=CallStatus.PUBLISHED, city__is_active=True).select_related("city__policy")
    if city is not None:
        queryset = queryset.filter(city=city)
    return queryset.order_by("-published_at", "-id")


def public_call_get(call_id) -> OpenCall:
    call = OpenCall.objects.select_related("city__policy").filter(pk=call_id, status=CallStatus.PUBLISHED).first()
    if call is None:
        raise NotFound("征集公告不存在或尚未发布。", code="call_not_found")
    return call


def call_get_for_admin(*, user, call_id, write: bool = True) -> OpenCall:
    call = OpenCall.objects.select_related("city__policy").filter(pk=call_id).first()
    if call is None:
        raise NotFound("征集公告不存在。", code="call_not_found")
    (require_city_admin if write else require_reader)(user, call.city)
    return call


def _count_of(queryset):
    from django.db.models.functions import Coalesce

    counted = queryset.order_by().values("call").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def admin_call_list(*, city):
    return (
        OpenCall.objects.filter(city=city)
        .select_related("city").prefetch_related("city__policy")
        # counted per listed call (correlated subqueries), not by grouping every application of the city (#15)
        .annotate(
            application_count=_count_of(Application.objects.filter(call=OuterRef("pk")).exclude(status=ApplicationStatus.DRAFT)),
            pending_count=_count_of(Application.objects.filter(call=OuterRef("pk"), status=ApplicationStatus.SUBMITTED)),
        )
        .order_by("-created_at", "-id")
    )


def call_notices(call):
    return list(call.notices.order_by("-start", "-id"))


# --- applications -----------------------------------------------------------------------------------


def call_applications(*, call):
    return (
        Application.objects.filter(call=call)
        .exclude(status=ApplicationStatus.DRAFT)
        .select_related("applicant", "call__city")
        .prefetch_related("familiar_districts", "members", "call__city__policy")  # the policy profile once per city, not joined into every row (issue #15)
        .order_by("submitted_at", "id")
    )


def application_get(*, user, application_id, write: bool = False) -> Application:
    """The applicant sees their own; city administrators (write) / auditors (read) their city's."""
    application = (
        Application.objects.select_related("call__city__policy", "applicant", "decided_by", "planner", "prior_planner")
        .prefetch_related("familiar_districts", "members", "proofs")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise NotFound()
    if not write and getattr(user, "is_authenticated", False) and application.applicant_id == user.pk:
        return application
    if write:
        require_city_admin(user, application.call.city)
    else:
        if not getattr(user, "is_authenticated", False):
            raise NotFound()
        if not (user.is_superuser or is_city_wide(user, application.call.city)):
            raise NotFound()
    return application


def prior_planner(*, city, user=None, id_number: str = ""):
    """The applicant's record already in `city`'s registry (in the pool, waiting, or removed and kept as
    history): the one linked to their account, else the one with their ID number (a current record
    before a removed one, the latest removed first). None for a newcomer."""
    from rpms.registry.models import Planner, PoolStatus

    queryset = Planner.objects.select_related("city__policy").prefetch_related("familiar_districts", "members")
    if getattr(user, "is_authenticated", False):
        found = queryset.filter(city=city, user=user).first()
        if found is not None:
            return found
    if not id_number:
        return None
    return (
        queryset.filter(city=city, id_number_index=blind_index(id_number, kind="id_number"))
        .annotate(_removed=Case(When(pool_status=PoolStatus.REMOVED, then=Value(1)), default=Value(0),
                                output_field=IntegerField()))
        .order_by("_removed", "-removed_at", "-id")
        .first()
    )


def application_defaults(planner) -> dict:
    """The application form's starting values from a registry record (the dossier's data), in the form's
    own keys; declarations are the applicant's to make again."""
    is_team = planner.kind == "team"
    return {
        "kind": planner.kind,
        "team_name": planner.name if is_team else "",
        "name": planner.leader_name if is_team else planner.name,
        "id_number": planner.id_number,
        "mobile": planner.mobile,
        "email": planner.email,
        "employer": planner.employer,
        "degree": planner.degree,
        "major": planner.major,
        "degree_field": planner.major_field,
        "title_level": planner.title_level,
        "title_field": planner.title_field,
        "registrations": list(planner.registrations or []),
        "experience_years": planner.experience_years,
        "specialties": list(planner.specialties or []),
        "districts": [d.code for d in planner.familiar_districts.all()],
        "declarations": [],
        "members": [{"name": m.name, "specialty": m.specialty, "is_core": m.is_core} for m in planner.members.all()]
        if is_team else [],
    }


def my_applications(*, user):
    return (
        Application.objects.filter(applicant=user)
        .select_related("call__city", "planner").prefetch_related("call__city__policy")  # the policy profile once per city, not joined into every row (issue #15)
        .order_by("-submitted_at", "-id")
    )


def can_download_proof(user, application) -> bool:
    """The applicant, the city administrators of the call's city, auditors."""
    if not getattr(user, "is_authenticated", False):
        return False
    if application.applicant_id == user.pk:
        return True
    return bool(user.is_superuser) or is_city_wide(user, application.call.city)


# --- notices ----------------------------------------------------------------------------------------


def _entries_prefetch():
    published = Objection.objects.filter(finding_published_at__isnull=False).order_by("resolved_at", "id")
    return Prefetch(
        "entries",
        queryset=NoticeEntry.objects.select_related("application")
        .prefetch_related(Prefetch("objections", queryset=published, to_attr="published_objections"))
        .order_by("id"),
    )


def public_notice_get(notice_id) -> PublicNotice:
    notice = (
        PublicNotice.objects.select_related("call", "city__policy")
        .prefetch_related(_entries_prefetch(), "recomputations")
        .filter(pk=notice_id)
        .first()
    )
    if notice is None:
        raise NotFound("公示不存在。", code="notice_not_found")
    return notice


def public_notice_list(*, city=None, call=None):
    queryset = PublicNotice.objects.select_related("call", "city__policy").annotate(candidate_count=Count("entries"))
    if city is not None:
        queryset = queryset.filter(city=city)
    if call is not None:
        queryset = queryset.filter(call=call)
    return queryset.order_by("-start", "-id")


def notice_get_for_admin(*, user, notice_id, write: bool = True) -> PublicNotice:
    notice = (
        PublicNotice.objects.select_related("call", "city__policy", "published_by", "closed_by")
        .prefetch_related(
            Prefetch(
                "entries",
                queryset=NoticeEntry.objects.select_related("application__planner").order_by("id"),
            ),
            Prefetch("objections", queryset=Objection.objects.select_related("entry__application", "resolved_by")),
            "recomputations",
        )
        .filter(pk=notice_id)
        .first()
    )
    if notice is None:
        raise NotFound("公示不存在。", code="notice_not_found")
    (require_city_admin if write else require_reader)(user, notice.city)
    return notice


def objection_get_for_admin(*, user, objection_id) -> Objection:
    objection = Objection.objects.select_related("notice__city", "entry__application").filter(pk=objection_id).first()
    if objection is None:
        raise NotFound("异议不存在。", code="objection_not_found")
    require_city_admin(user, objection.notice.city)
    return objection


def public_candidate(entry, policy) -> dict:
    """What the public sees of a candidate on a notice: name, employer, title, specialties — never
    the ID number or mobile."""
    application = entry.application
    return {
        "application": application.pk,
        "name": application.display_name,
        "kind": application.kind,
        "employer": application.employer,
        "title_level": application.title_level,
        "title": application.get_title_level_display() if application.title_level != "none" else "",
        "title_field": policy.specialty_label(application.title_field) if application.title_field else "",
        "specialties": [policy.specialty_label(c) for c in application.specialties],
        "cancelled": entry.cancelled,
    }
