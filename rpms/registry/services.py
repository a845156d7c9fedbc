"""Registry writes: creating a planner record (demo data, admin), direct commission (B19(1)),
team members and the core-member cap (B19(7)), a planner's request to leave and removal from the
pool on a listed ground (P5(3), P5(4)). Admission from a public notice is recruitment's
`notice_close`, which writes the dossier through `dossier_event_record` below.

Every service writes one audit row; the dossier (个人档案, P5(2)) rows are written alongside."""
from django.core.exceptions import ValidationError
from django.db import transaction

from rpms.cities.vocabulary import DegreeLevel, TitleLevel
from rpms.cities.selectors import policy_article
from rpms.core import clock, pubcache
from rpms.core import hooks
from rpms.core.audit import audit_log, snapshot
from rpms.core.crypto import blind_index
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound

from .dossier import dossier_event_record  # noqa: F401  (other apps' services import it from here)
from .models import DossierEventKind, ExceptionAct, LimitException, Planner, PlannerKind, PlannerSource, PoolStatus, TeamMember
from .selectors import planner_get, require_pool_manager, require_team_manager

LEAVE_GROUND = "voluntary_withdrawal"  # P5(4) item 4: the planner's own request


# --- helpers used inside other services' transactions (they write no audit row of their own) ----------


def full_clean_or_refuse(instance, **kwargs) -> None:
    """full_clean(), turning a model ValidationError into a DomainError (400) with its Chinese text."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        parts = []
        for field, errors in exc.message_dict.items():
            label = instance._meta.get_field(field).verbose_name if field != "__all__" else ""
            parts.append(f"{label}：{'；'.join(errors)}" if label else "；".join(errors))
        raise DomainError("；".join(parts) or "数据不正确。", code="invalid_field") from None


def specialties_check(*, city, codes, label: str = "专业领域") -> list[str]:
    """The codes, de-duplicated in order, if every one is a specialty of the city's policy."""
    known = {s["code"] for s in city.policy.specialties}
    codes = list(dict.fromkeys(str(c).strip() for c in (codes or []) if str(c).strip()))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise DomainError(f"未知的{label}：{'、'.join(unknown)}", code="unknown_specialty")
    return codes


def core_member_cap_check(*, policy, members) -> None:
    """B19(7): no more core members recorded than the policy allows (None: no cap). Cites the city's own
    article for the step (policy `articles["team_core_cap"]`). The refusal's details carry the figures
    (`core`, `cap`), which an exception to the in-principle cap records (rpms.registry.limits)."""
    cap = policy.max_core_team_members
    core = sum(1 for m in members if m.get("is_core"))
    if cap is not None and core > cap:
        article = (policy.articles or {}).get("team_core_cap", "")
        raise DomainError(
            f"团队核心成员不得超过 {cap} 人{f'（{article}）' if article else ''}，本次填写了 {core} 名核心成员。",
            code="too_many_core_members", details={"core": core, "cap": cap},
        )


def _core_cap_with_waiver(*, actor, city, members, waiver, subject_label: str, planner=None) -> None:
    """B19(7) where the act may carry an exception (rpms.registry.limits): refused as before without one."""
    from rpms.cities.limits import CORE_TEAM_MEMBERS

    from . import limits

    try:
        core_member_cap_check(policy=city.policy, members=members)
    except DomainError as refusal:
        if refusal.code != "too_many_core_members":
            raise
        limits.limit_exceeded(
            actor=actor, city=city, limit=CORE_TEAM_MEMBERS, refusal=refusal, waiver=waiver,
            subject_label=subject_label, value=refusal.details["core"], limit_value=refusal.details["cap"],
            planner=planner,
        )


def team_members_clean(*, city, members, check_cap: bool = True) -> list[dict]:
    """Validated member dicts {name, specialty, is_core} (names required, specialties from the policy);
    the core-member cap checked unless `check_cap` is false (the caller checks it with its waiver)."""
    cleaned = []
    for index, member in enumerate(members or [], start=1):
        if not isinstance(member, dict):
            raise DomainError(f"第 {index} 名团队成员的信息格式不正确。", code="invalid_member")
        name = str(member.get("name") or "").strip()
        if not name:
            raise DomainError(f"请填写第 {index} 名团队成员的姓名。", code="invalid_member")
        if len(name) > 100:
            raise DomainError(f"第 {index} 名团队成员的姓名过长。", code="invalid_member")
        specialty = str(member.get("specialty") or "").strip()
        if specialty:
            specialties_check(city=city, codes=[specialty], label=f"第 {index} 名团队成员的专业领域")
        cleaned.append({"name": name, "specialty": specialty, "is_core": bool(member.get("is_core"))})
    if check_cap:
        core_member_cap_check(policy=city.policy, members=cleaned)
    return cleaned


# --- services ---------------------------------------------------------------------------------------


@transaction.atomic
def planner_create(*, actor, city, name: str, familiar_districts=(), article: str = "", summary: str = "", **fields) -> Planner:
    specialties = fields.get("specialties", [])
    known = {s["code"] for s in city.policy.specialties}
    unknown = [s for s in specialties if s not in known]
    if unknown:
        raise DomainError(f"未知的专业领域：{'、'.join(unknown)}", code="unknown_specialty")
    planner = Planner(city=city, name=name, **fields)
    planner.full_clean()
    planner.save()
    if familiar_districts:
        planner.familiar_districts.set(familiar_districts)
    audit_log(
        actor=actor, action="registry.planner_create", obj=planner, after=snapshot(planner),
        article=article, summary=summary or f"登记责任规划师 {name}",
    )
    return planner


@transaction.atomic
def planner_link_user(*, actor, planner: Planner, user) -> Planner:
    """Links a planner record to the login account the planner uses."""
    if Planner.objects.filter(user=user).exclude(pk=planner.pk).exists():
        raise DomainError("该账户已关联其他责任规划师。", code="account_already_linked")
    before = {"user": planner.user_id}
    planner.user = user
    planner.full_clean()
    planner.save(update_fields=["user", "updated_at"])
    audit_log(actor=actor, action="registry.planner_link_user", obj=planner, before=before, after={"user": user.pk},
              summary=f"关联登录账户 {user.username}")
    return planner


def planner_lock(planner) -> Planner | None:
    """Locks a planner's row (or team's) until the transaction ends and returns it fresh, or None if there is
    none: the point where every act counting the planner's units (the B19(2) cap) serialises.

    Only the planner's own row (`of`: Planner's ordering joins the city, whose row FOR UPDATE would stop every
    write in the city), and FOR NO KEY UPDATE: rows that only refer to the planner or its city (duty records,
    suggestions, audit rows; PostgreSQL checks their foreign keys with FOR KEY SHARE) neither wait for it nor
    deadlock with it. Two acts locking the same planner still wait for each other."""
    return (Planner.objects.select_for_update(of=("self",), no_key=True)
            .filter(pk=getattr(planner, "pk", planner)).order_by("pk").first())


def _lock(planner: Planner) -> Planner:
    return Planner.objects.select_for_update(of=("self",)).select_related("city__policy").get(pk=planner.pk)


def commission_facts(fields: dict, declarations) -> dict:
    """The eligibility facts (B18, P4) of a person commissioned (a team: its leader's, B18)."""
    return {
        "degree": fields.get("degree", DegreeLevel.NONE), "degree_field": fields.get("major_field", ""),
        "title_level": fields.get("title_level", TitleLevel.NONE), "title_field": fields.get("title_field", ""),
        "registrations": list(fields.get("registrations") or []), "experience_years": fields.get("experience_years") or 0,
        "declarations": list(declarations or []),
    }


def eligibility_failures(result) -> list[str]:
    """Each failed rule of an eligibility result as one Chinese line with its article."""
    return [f"{o.label}（{o.article}）：{o.detail}" for o in result.failed()]


@transaction.atomic
def planner_commission(*, actor, city, reason: str, name: str, familiar_districts=(), members=(), declarations=(),
                       exception_reason: str = "", **fields) -> Planner:
    """B19(1) 定向委托: a city whose pool does not require a public notice adds a planner directly,
    with the reason recorded in the audit trail and the dossier.

    The eligibility rules (B18, P4) are checked like an application's, on the stated facts and the
    declarations (`declarations`: the codes of the policy's declaration rules the commissioned person has
    made); an ineligible person is refused (400 `ineligible`, each failed rule explained with its article)
    unless the city marks eligibility in principle and the administrator gives `exception_reason` (an
    approved exception, rpms.registry.limits). A team's core members beyond the cap likewise (B19(7))."""
    from rpms.cities.eligibility import declaration_rules, eligibility_check
    from rpms.cities.limits import ELIGIBILITY
    from rpms.core.identity import validate_id_number, validate_mobile

    from . import limits

    require_pool_manager(actor, city)
    policy = city.policy
    if policy.pool_requires_notice:
        raise Conflict(f"{city.name}的资源库须经公示后入库（P5(2)），不能直接委托，请通过公开征集办理。",
                       code="commission_not_allowed")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写定向委托的理由。", code="reason_required")
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写姓名或团队名称。", code="name_required")
    kind = fields.get("kind", PlannerKind.INDIVIDUAL)
    if kind == PlannerKind.TEAM and not policy.teams_allowed:
        raise DomainError(f"{city.name}不接受团队受聘。", code="teams_not_allowed")
    if fields.get("id_number"):
        fields["id_number"] = validate_id_number(fields["id_number"])
        if (Planner.objects.filter(city=city, id_number_index=blind_index(fields["id_number"], kind="id_number"))
                .exclude(pool_status=PoolStatus.REMOVED).exists()):
            raise Conflict("该身份证号码对应的责任规划师已在本市名录中。", code="already_in_pool")
    if fields.get("mobile"):
        fields["mobile"] = validate_mobile(fields["mobile"])
    fields["specialties"] = specialties_check(city=city, codes=fields.get("specialties"))
    if fields.get("degree", DegreeLevel.NONE) not in DegreeLevel.values:
        raise DomainError("学历不在可选范围内。", code="invalid_field")
    if fields.get("title_level", TitleLevel.NONE) not in TitleLevel.values:
        raise DomainError("职称等级不在可选范围内。", code="invalid_field")
    if fields.get("title_field"):
        specialties_check(city=city, codes=[fields["title_field"]], label="职称专业领域")
    if fields.get("major_field"):
        specialties_check(city=city, codes=[fields["major_field"]], label="所学专业所属领域")
    known_registrations = {r["code"] for r in policy.registrations}
    unknown = [r for r in fields.get("registrations") or [] if r not in known_registrations]
    if unknown:
        raise DomainError(f"未知的执业资格：{'、'.join(unknown)}", code="unknown_registration")
    declarations = list(dict.fromkeys(str(d).strip() for d in declarations or () if str(d).strip()))
    allowed = {d["code"] for d in declaration_rules(policy)}
    unknown = [d for d in declarations if d not in allowed]
    if unknown:
        raise DomainError(f"未知的声明事项：{'、'.join(unknown)}", code="invalid_declaration")
    districts = list(familiar_districts)
    if any(d.city_id != city.pk for d in districts):
        raise DomainError("熟悉的区须为本市的区。", code="invalid_district")
    waiver = limits.Waiver(act=limits.ExceptionAct.COMMISSION, subject=limits.ExceptionSubject.COMMISSION,
                           reason=exception_reason)
    subject_label = f"定向委托{name}入库"
    member_rows = []
    if kind == PlannerKind.TEAM:
        member_rows = team_members_clean(city=city, members=members, check_cap=False)
        _core_cap_with_waiver(actor=actor, city=city, members=member_rows, waiver=waiver, subject_label=subject_label)
    # B18 / P4: the same rules as an application, rule by rule with the article.
    result = eligibility_check(policy=policy, facts=commission_facts(fields, declarations))
    if not result.eligible:
        failures = eligibility_failures(result)
        refusal = DomainError(
            f"{name}不符合{city.name}的选聘条件（{result.article}），不能定向委托：" + "；".join(failures) + "。",
            code="ineligible", details={"eligibility": result.as_dict()},
        )
        limits.limit_exceeded(actor=actor, city=city, limit=ELIGIBILITY, refusal=refusal, waiver=waiver,
                              subject_label=subject_label, shortfall=failures)
    now = clock.now()
    planner = Planner(city=city, name=name, pool_status=PoolStatus.ACTIVE, source=PlannerSource.COMMISSION,
                      admitted_at=now, **fields)
    full_clean_or_refuse(planner)
    planner.save()
    if districts:
        planner.familiar_districts.set(districts)
    for index, member in enumerate(member_rows):
        TeamMember.objects.create(planner=planner, sort_order=index, **member)
    verdict = "符合选聘条件" if result.eligible else "不符合选聘条件，经批准例外办理"
    dossier_event_record(
        planner=planner, kind=DossierEventKind.COMMISSIONED, article=policy_article(city, "commission"), actor=actor, occurred_at=now,
        summary=f"定向委托入库（资格审查：{verdict}，{result.article}）。理由：{reason}",
        data={"reason": reason, "eligible": result.eligible, "declarations": declarations,
              "failed_rules": [o.code for o in result.failed()]},
    )
    used = limits.exceptions_performed(waiver=waiver, result=planner, planner=planner)
    audit_log(
        actor=actor, action="registry.planner_commission", obj=planner,
        after={**snapshot(planner, fields=["name", "kind", "employer", "title_level", "specialties", "pool_status"]),
               "reason": reason, "members": len(member_rows), "eligible": result.eligible,
               "failed_rules": [o.code for o in result.failed()], "limit_exceptions": [e.pk for e in used]},
        article=policy_article(city, "commission"), summary=f"定向委托 {name} 入库：{reason}"[:255],
    )
    return planner


@transaction.atomic
def team_member_add(*, actor, planner: Planner, name: str, specialty: str = "", is_core: bool = False,
                    exception_reason: str = "", _granted=None):
    """Records a member of a team in the pool (the city administrator); refuses more core members than
    B19(7) allows — unless the city marks the cap in principle and the act carries `exception_reason`
    (rpms.registry.limits): granted at once for the city administrator. Returns the TeamMember (or, for a
    request that waits, the pending LimitException)."""
    from . import limits

    planner = _lock(planner)
    # The city administrator, or (issue #17 item 8) the team's leader: a leader's core member beyond an
    # in-principle cap waits for the city's approval as an exception request (rpms.registry.limits).
    require_team_manager(actor, planner)
    if planner.kind != PlannerKind.TEAM:
        raise DomainError("只有团队可以登记团队成员。", code="not_a_team")
    existing = [{"is_core": m.is_core} for m in planner.members.all()]
    [member] = team_members_clean(city=planner.city, members=[{"name": name, "specialty": specialty, "is_core": is_core}],
                                  check_cap=False)
    waiver = limits.Waiver(
        act=limits.ExceptionAct.TEAM_MEMBER_ADD, subject=limits.ExceptionSubject.TEAM, reason=exception_reason,
        payload={"planner": planner.pk, **member}, source=planner, granted=_granted,
    )
    try:
        _core_cap_with_waiver(actor=actor, city=planner.city, members=existing + [member], waiver=waiver,
                              subject_label=f"{planner.name}：登记核心成员{member['name']}", planner=planner)
    except limits.ExceptionRequested as requested:
        return requested.exception
    row = TeamMember(planner=planner, sort_order=len(existing), **member)
    full_clean_or_refuse(row)
    row.save()
    dossier_event_record(
        planner=planner, kind=DossierEventKind.MEMBER_ADDED, article=policy_article(planner.city, "team_core_cap"), actor=actor,
        summary=f"登记团队成员 {row.name}" + ("（核心成员）" if row.is_core else ""), data=member,
    )
    used = limits.exceptions_performed(waiver=waiver, result=row, planner=planner)
    audit_log(actor=actor, action="registry.team_member_add", obj=row, object_repr=f"{planner.name}：{row.name}",
              after={**member, "limit_exceptions": [e.pk for e in used]} if used else member,
              article=policy_article(planner.city, "team_core_cap"), summary=f"{planner.name} 登记团队成员 {row.name}",
              city_code=planner.city.code)
    return row


def perform_registry_act(*, exception: LimitException):
    """hooks.LIMIT_EXCEPTION_PERFORM handler for the registry's own acts: a core member added beyond the
    cap (B19(7)). Direct commission is the city administrator's own act, granted as it is done."""
    if exception.act != ExceptionAct.TEAM_MEMBER_ADD:
        return None
    payload = exception.payload or {}
    planner = Planner.objects.filter(pk=payload.get("planner")).first()
    if planner is None:
        raise NotFound("团队已不存在。", code="planner_not_found")
    return team_member_add(actor=exception.requested_by, planner=planner, name=payload.get("name", ""),
                           specialty=payload.get("specialty", ""), is_core=bool(payload.get("is_core")),
                           _granted=exception)


@transaction.atomic
def planner_leave_request(*, actor, planner: Planner, note: str) -> Planner:
    """The planner asks to leave the pool (P5(4) item 4); the administrator then removes them on
    that ground. Recorded in the dossier."""
    planner = _lock(planner)
    if planner.user_id is None or planner.user_id != getattr(actor, "pk", None):
        planner_get(user=actor, planner_id=planner.pk)  # another planner's record outside the actor's scope: 404
        raise Forbidden("只有责任规划师本人可以申请退出。")
    if planner.pool_status != PoolStatus.ACTIVE:
        raise Conflict("只有在库的责任规划师可以申请退出。", code="not_in_pool")
    note = (note or "").strip()
    if not note:
        raise DomainError("请说明申请退出的原因。", code="note_required")
    if planner.events.filter(kind=DossierEventKind.LEAVE_REQUESTED, occurred_at__gt=planner.admitted_at or clock.now()).exists():
        raise Conflict("您已提交退出申请，请等待市级主管部门办理。", code="leave_already_requested")
    ground = planner.city.policy.removal_ground(LEAVE_GROUND) or {}
    article = ground.get("article", "")
    dossier_event_record(planner=planner, kind=DossierEventKind.LEAVE_REQUESTED, article=article, actor=actor,
                         summary=f"本人申请退出资源库：{note}", data={"note": note})
    audit_log(actor=actor, action="registry.planner_leave_request", obj=planner, after={"note": note},
              article=article, summary=f"{planner.name} 申请退出资源库")
    return planner


def planner_remove_apply(*, actor, planner: Planner, ground: str, note: str = "", occurred_at=None,
                         source=None, summary_suffix: str = "") -> tuple[Planner, dict, dict, dict]:
    """Removal from the pool on one of the policy's grounds (P5(4)), WITHOUT an audit row of its own: for
    acts that remove a planner as one of their consequences and audit the whole act themselves (e.g. an
    unqualified assessment grade, rpms.assessments). Must run inside the caller's transaction. Locks the
    planner, refuses an unknown ground or a planner not in the pool, saves and writes the dossier REMOVED
    row, then runs the PLANNER_REMOVED hook in the same transaction: the higher layers do the removal's
    consequences there (rpms.appointments ends the planner's postings on the removal date, each with its
    own audit and dossier rows).

    Returns (planner, ground item of the policy, before, after)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("planner_remove_apply must be called inside the caller's transaction")
    planner = _lock(planner)
    policy = planner.city.policy
    ground_code = (ground or "").strip()
    found = policy.removal_ground(ground_code)
    if found is None:
        codes = "、".join(g["code"] for g in policy.removal_grounds)
        raise DomainError(f"调出情形“{ground_code}”不在本市规定的情形之中（可选：{codes}）。", code="unknown_ground")
    if planner.pool_status != PoolStatus.ACTIVE:
        raise Conflict(f"{planner.name}当前不在资源库中（{planner.get_pool_status_display()}），无需调出。", code="not_in_pool")
    note = (note or "").strip()
    fields = ["pool_status", "removed_at", "removal_ground", "removal_note"]
    before = snapshot(planner, fields=fields)
    now = occurred_at or clock.now()
    planner.move_to(PoolStatus.REMOVED, field="pool_status")
    planner.removed_at = now
    planner.removal_ground = ground_code
    planner.removal_note = note
    planner.full_clean()
    planner.save(update_fields=["pool_status", "removed_at", "removal_ground", "removal_note", "updated_at"])
    dossier_event_record(
        planner=planner, kind=DossierEventKind.REMOVED, article=found.get("article", ""), actor=actor, occurred_at=now,
        summary=f"调出资源库：{found['label']}" + (f"。说明：{note}" if note else "") + summary_suffix,
        data={"ground": ground_code, "note": note}, source=source,
    )
    hooks.run(hooks.PLANNER_REMOVED, actor=actor, planner=planner, ground=found, occurred_at=now, source=source)
    return planner, found, before, snapshot(planner, fields=fields)


@transaction.atomic
def planner_remove(*, actor, planner: Planner, ground: str, note: str = "") -> Planner:
    """Removal from the pool on one of the policy's grounds (P5(4)) by the city's pool manager; effective
    at once: a removed planner is no longer offered for new dispatches (registry.selectors.dispatchable_planners)
    and the postings they hold end today (the PLANNER_REMOVED hook, see `planner_remove_apply`). One audit
    row for the removal, plus one per posting ended."""
    require_pool_manager(actor, planner.city)
    planner, found, before, after = planner_remove_apply(actor=actor, planner=planner, ground=ground, note=note)
    audit_log(
        actor=actor, action="registry.planner_remove", obj=planner, before=before, after=after,
        article=found.get("article", ""), summary=f"{planner.name} 调出资源库（{found['label'][:60]}）",
    )
    return planner


@transaction.atomic
def planners_mark_fictional(*, actor, city, planners) -> int:
    """Marks records as fictional demo data (演示数据（虚构）): the demo admits its planners through the real
    paths (recruitment's notice, the roster import, direct commission), which make ordinary records; this
    flag is the demo's own marker (no rule reads it). One audit row; returns how many were marked."""
    ids = sorted({p.pk for p in planners if not p.is_fictional and p.city_id == city.pk})
    if not ids:
        return 0
    Planner.objects.filter(pk__in=ids).update(is_fictional=True, updated_at=clock.now())
    pubcache.bump(pubcache.public_scope(city.pk))  # a bulk update sends no signals
    hooks.rows_written_in_bulk(Planner, city_id=city.pk)
    audit_log(actor=actor, action="registry.planners_mark_fictional", obj=city, after={"planners": ids}, city_code=city.code,
              summary=f"{len(ids)} 名责任规划师标记为演示数据（虚构）")
    return len(ids)
