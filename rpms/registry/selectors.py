"""Registry reads: the resource pool (P5) with its filters, dossiers, and who may be dispatched.

Who sees what: city administrators and auditors of the city see the full pool record (personal
identifiers masked in lists and exports); district officers of the city see the pool's public
fields only (name, employer, title, specialties, districts known, status). Everyone else: 403; a
city the user does not belong to: 404."""
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q

from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide
from rpms.cities.vocabulary import TITLE_ORDER
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.masking import mask_id_number, mask_mobile

from .models import DossierEvent, ExceptionStatus, LimitException, Planner, PoolStatus, TeamMember

FULL = "full"
PUBLIC = "public"
POOL_PAGE_MAX = 500
STATUS_ALL = "all"  # every status; without a status filter the pool means its active members


def pool_access(user, city) -> str:
    """FULL for city administrators / auditors of the city, PUBLIC for its district officers."""
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("请先登录。")
    if user.is_superuser:
        return FULL
    if user.role in (Role.CITY_ADMIN, Role.AUDITOR):
        if not is_city_wide(user, city):
            raise NotFound()
        return FULL
    if user.role == Role.DISTRICT_OFFICER:
        if user.city_id != city.pk:
            raise NotFound()
        return PUBLIC
    raise Forbidden("您的角色无权查看资源库。")


def can_manage_pool(user, city) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser) or (user.role == Role.CITY_ADMIN and user.city_id == city.pk)


def require_pool_manager(user, city) -> None:
    if not getattr(user, "is_authenticated", False) or not (user.is_superuser or user.role == Role.CITY_ADMIN):
        raise Forbidden("只有市级管理员可以管理资源库。")
    if not can_manage_pool(user, city):
        raise NotFound()


# --- teams (issue #17 item 8): who reads and who changes a team (rpms.registry.teams) ----------------------------


def is_leader(user, team) -> bool:
    return getattr(user, "is_authenticated", False) and team.user_id is not None and team.user_id == user.pk


def can_read_team(user, team) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if is_leader(user, team) or is_city_wide(user, team.city):
        return True
    return team.members.filter(user=user).exists()


def can_manage_team(user, team) -> bool:
    return is_leader(user, team) or can_manage_pool(user, team.city)


def require_team_manager(actor, team) -> None:
    """The team's leader or the city administrator of its city. A member, the city's auditor or a role that never
    manages teams: 403; another planner or another city's administrator: 404 (the team is not theirs to see)."""
    if can_manage_team(actor, team):
        return
    role = getattr(actor, "role", "")
    if can_read_team(actor, team) or role not in (Role.PLANNER, Role.CITY_ADMIN):
        raise Forbidden("只有团队负责人或市级主管部门可以调整团队。")
    raise NotFound()


@dataclass
class PoolFilters:
    specialty: str = ""
    status: str = ""
    district: str = ""  # district code (familiarity)
    title: str = ""  # minimum title level
    experience_min: int | None = None
    q: str = ""

    def as_query(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if v not in ("", None)}
        return data


def pool_filters_parse(params) -> PoolFilters:
    """Raw query parameters → PoolFilters, refusing unknown values with a Chinese message (400)."""
    get = params.get
    status = str(get("status") or "").strip()
    if status and status not in PoolStatus.values and status != STATUS_ALL:
        choices = "、".join([*PoolStatus.values, STATUS_ALL])
        raise DomainError(f"入库状态“{status}”无效（可选：{choices}）。", code="invalid_status")
    title = str(get("title") or "").strip()
    if title and title not in TITLE_ORDER:
        raise DomainError(f"职称等级“{title}”无效。", code="invalid_title")
    raw_years = str(get("experience_min") or get("experience") or "").strip()
    years = None
    if raw_years:
        try:
            years = int(raw_years)
        except ValueError:
            raise DomainError("工作年限下限应为整数。", code="invalid_experience") from None
        if years < 0:
            raise DomainError("工作年限下限不能为负数。", code="invalid_experience")
    return PoolFilters(
        specialty=str(get("specialty") or "").strip()[:50],
        status=status,
        district=str(get("district") or "").strip()[:12],
        title=title,
        experience_min=years,
        q=" ".join(str(get("q") or "").split())[:50],
    )


def pool_list(*, user, city, filters: PoolFilters | None = None):
    """The pool of `city` as `user` may see it (pool_access raises otherwise), filtered; the query
    count does not grow with the rows (districts and members are prefetched).

    Issue #15: the policy profile is not joined into the rows (a page gets it once: `pool_page`), and the
    district filter is a semi-join (EXISTS), so no DISTINCT over joined rows is needed; the rows come in the
    order of the (city, pool_status, name, id) index, which serves the page's LIMIT without a sort."""
    pool_access(user, city)
    filters = filters or PoolFilters()
    queryset = Planner.objects.filter(city=city).select_related("city")
    if filters.status == STATUS_ALL:
        pass
    elif filters.status:
        queryset = queryset.filter(pool_status=filters.status)
    else:
        queryset = queryset.filter(pool_status=PoolStatus.ACTIVE)
    if filters.specialty:
        # JSON list membership, portable across SQLite and PostgreSQL: match the quoted code.
        queryset = queryset.filter(specialties__icontains=f'"{filters.specialty}"')
    if filters.district:
        knows = Planner.familiar_districts.through.objects.filter(planner_id=OuterRef("pk"), district__code=filters.district)
        queryset = queryset.filter(Exists(knows))
    if filters.title:
        queryset = queryset.filter(title_level__in=TITLE_ORDER[TITLE_ORDER.index(filters.title):])
    if filters.experience_min is not None:
        queryset = queryset.filter(experience_years__gte=filters.experience_min)
    if filters.q:
        queryset = queryset.filter(Q(name__icontains=filters.q) | Q(employer__icontains=filters.q))
    return (
        queryset
        .prefetch_related("familiar_districts", Prefetch("members", queryset=TeamMember.objects.order_by("sort_order", "id")))
        .order_by("name", "id")
    )


def pool_page(queryset, start: int, stop: int) -> list[Planner]:
    """The rows [start, stop) of a `pool_list` queryset, every row's city holding its policy profile from the
    cache (one read per request and city, no JSON decoded per row)."""
    from rpms.cities.selectors import attach_policies

    return attach_policies(list(queryset[start:stop]))


def planner_row(planner: Planner, access: str) -> dict:
    """One pool row as JSON; PUBLIC rows carry public fields only, FULL rows add masked identifiers."""
    policy = planner.city.policy
    row = {
        "id": planner.pk,
        "name": planner.name,
        "kind": planner.kind,
        "leader_name": planner.leader_name,
        "employer": planner.employer,
        "title_level": planner.title_level,
        "title": planner.get_title_level_display() if planner.title_level != "none" else "",
        "title_field": planner.title_field,
        "specialties": list(planner.specialties or []),
        "specialty_labels": [policy.specialty_label(c) for c in planner.specialties or []],
        "districts": [d.code for d in planner.familiar_districts.all()],
        "district_names": [d.name for d in planner.familiar_districts.all()],
        "pool_status": planner.pool_status,
        "pool_status_label": planner.get_pool_status_display(),
    }
    if access == FULL:
        row.update(
            {
                "degree": planner.degree,
                "major": planner.major,
                "registrations": list(planner.registrations or []),
                "experience_years": planner.experience_years,
                "id_number_masked": mask_id_number(planner.id_number) if planner.id_number else "",
                "mobile_masked": mask_mobile(planner.mobile) if planner.mobile else "",
                "source": planner.source,
                "admitted_at": planner.admitted_at.isoformat() if planner.admitted_at else None,
                "removed_at": planner.removed_at.isoformat() if planner.removed_at else None,
                "removal_ground": planner.removal_ground,
                "core_members": sum(1 for m in planner.members.all() if m.is_core),
                "members": len(planner.members.all()),
            }
        )
    return row


def planner_get(*, user, planner_id, write: bool = False) -> Planner:
    """A planner's record and dossier: city administrators (write) and auditors (read) of the city,
    and the planner themself (read). Otherwise 404."""
    planner = (
        Planner.objects.select_related("city__policy", "user")
        .prefetch_related("familiar_districts", "members")
        .filter(pk=planner_id)
        .first()
    )
    if planner is None:
        raise NotFound()
    if write:
        require_pool_manager(user, planner.city)
        return planner
    if getattr(user, "is_authenticated", False) and planner.user_id == user.pk:
        return planner
    if not getattr(user, "is_authenticated", False):
        raise NotFound()
    if user.is_superuser or (user.role in (Role.CITY_ADMIN, Role.AUDITOR) and is_city_wide(user, planner.city)):
        return planner
    raise NotFound()


def dossier_events(planner: Planner):
    return list(DossierEvent.objects.filter(planner=planner).select_related("actor").order_by("occurred_at", "id"))


def dispatchable_planners(*, city):
    """Planners who may be dispatched now: in the pool. A removal takes effect at once (P5(3))."""
    return Planner.objects.filter(city=city, pool_status=PoolStatus.ACTIVE).prefetch_related("familiar_districts")


def pending_leave_requests(*, city, planner_ids=None) -> set[int]:
    """Ids of active planners whose latest leave request came after their admission (among `planner_ids`
    when given: a page's rows)."""
    from django.db.models import F

    requested = DossierEvent.objects.filter(planner=OuterRef("pk"), kind="leave_requested", occurred_at__gte=F("planner__admitted_at"))
    queryset = Planner.objects.filter(city=city, pool_status=PoolStatus.ACTIVE)
    if planner_ids is not None:
        queryset = queryset.filter(pk__in=list(planner_ids))
    return set(queryset.filter(Exists(requested)).values_list("pk", flat=True))


def pending_count(user) -> int:
    """Pending requests the user may decide (city administrators)."""
    if not getattr(user, "is_authenticated", False) or not (user.is_superuser or user.role == Role.CITY_ADMIN):
        return 0
    queryset = LimitException.objects.filter(status=ExceptionStatus.PENDING)
    if not user.is_superuser:
        queryset = queryset.filter(city_id=user.city_id)
    return queryset.count()


def pending_change_count(user) -> tuple[int, object]:
    """(profile changes waiting for `user` to verify, when the oldest was made) — issue #17 item 8."""
    from .models import ProfileChange, ProfileChangeStatus

    if not getattr(user, "is_authenticated", False) or not (user.is_superuser or user.role == Role.CITY_ADMIN):
        return 0, None
    queryset = ProfileChange.objects.filter(status=ProfileChangeStatus.PENDING)
    if not user.is_superuser:
        queryset = queryset.filter(city_id=user.city_id)
    rows = list(queryset.order_by("requested_at").values_list("requested_at", flat=True)[:1])
    return (queryset.count(), rows[0]) if rows else (0, None)


def pending_items(user) -> list:
    """The city administrator's line on the home page: exception requests waiting for approval (registered
    in AppConfig.ready())."""
    from django.urls import reverse

    from rpms.core.pending import PendingItem

    items = []
    count = pending_count(user)
    if count:
        items.append(PendingItem(title="原则性规定的例外申请待审批", url=reverse("registry:exceptions") + "?status=pending",
                                 count=count, level="warn"))
    # Issue #17 item 8: planners' changes of eligibility facts waiting for verification, oldest first.
    changes, oldest = pending_change_count(user)
    if changes:
        from django.utils import timezone

        items.append(PendingItem(title="责任规划师资格信息变更待核实", url=reverse("registry:profile_changes"),
                                 count=changes, due=f"最早提交于 {timezone.localtime(oldest):%Y-%m-%d}", level="warn"))
    return items
