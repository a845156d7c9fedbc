"""Turning the database into the matching engine's input (P6(2)): slots from accepted requests,
candidates from the pool with their capacity, held units, conflicts and familiarity.

Everything here is read-only and ordered by id, so the same database state always gives the same
input (and the engine, being deterministic, the same proposals). A handful of queries whatever the
number of planners or units."""
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import asdict

from rpms.appointments.models import Appointment
from rpms.cities.models import City
from rpms.core import hooks
from rpms.matching.engine import Candidate, Slot
from rpms.registry.selectors import dispatchable_planners

from .models import ConflictDeclaration


def unit_cap(city: City) -> int | None:
    """B19(2): the most units a planner or team may serve at once; None when the city sets no cap."""
    return city.policy.max_units_per_planner


def held_units_by_planner(*, city: City, on=None, planner_ids=None) -> dict[int, set[int]]:
    """Planner id → ids of the units it serves or is appointed to serve (appointments not over on
    `on`; what the cap counts, B19(2))."""
    rows = Appointment.objects.not_over(on).filter(city=city)
    if planner_ids is not None:
        rows = rows.filter(planner_id__in=list(planner_ids))
    held: dict[int, set[int]] = defaultdict(set)
    for planner_id, unit_id in rows.values_list("planner_id", "unit_id"):
        held[planner_id].add(unit_id)
    return held


def coverage_by_unit_role(*, unit_ids, on=None) -> Counter:
    """(unit id, role) → number of appointments not over on `on` serving that unit in that role."""
    rows = Appointment.objects.not_over(on).filter(unit_id__in=list(unit_ids)).values_list("unit_id", "role")
    return Counter(rows)


def conflicts_by_planner(planner_ids=None, *, city: City | None = None) -> dict[int, tuple[set[int], set[int]]]:
    """Planner id → (conflict unit ids, conflict district ids) from the declarations not withdrawn."""
    rows = ConflictDeclaration.objects.filter(withdrawn_at__isnull=True)
    if planner_ids is not None:
        rows = rows.filter(planner_id__in=list(planner_ids))
    if city is not None:
        rows = rows.filter(planner__city=city)
    found: dict[int, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    for planner_id, unit_id, district_id in rows.values_list("planner_id", "unit_id", "district_id"):
        units, districts = found[planner_id]
        if unit_id:
            units.add(unit_id)
        if district_id:
            districts.add(district_id)
    return found


def last_grade_scores(planner_ids) -> dict[int, float]:
    """Planner id → the latest recorded assessment grade as a score in 0..1, by the grade's place in the
    city's policy list (best = 1.0, worst = 0.0; with 优秀/合格/不合格: 1.0, 0.5, 0.0). A planner never
    assessed is absent (None), which the engine scores as a neutral middle value. One query (rpms.assessments,
    through the GRADE_SCORES hook)."""
    scores: dict[int, float] = {}
    for answer in hooks.run(hooks.GRADE_SCORES, planner_ids=planner_ids):
        scores.update(answer or {})
    return scores


def capacity_for(cap: int | None, held: set[int]) -> int | None:
    return None if cap is None else max(0, cap - len(held))


def candidate_from(planner, *, cap, held, conflicts, grade) -> Candidate:
    conflict_units, conflict_districts = conflicts
    return Candidate(
        planner_id=planner.pk,
        specialties=tuple(sorted(planner.specialties or [])),
        familiar_district_ids=frozenset(d.pk for d in planner.familiar_districts.all()),
        experience_years=int(planner.experience_years or 0),
        capacity=capacity_for(cap, held),
        held_unit_ids=frozenset(held),
        conflict_unit_ids=frozenset(conflict_units),
        conflict_district_ids=frozenset(conflict_districts),
        last_grade_score=grade,
        employer=planner.employer or "",
        roles=None,  # the registry records no role restriction: any planner may fill any role
        label=planner.name,
    )


def build_candidates(*, city: City, on=None, planner_ids=None) -> tuple[list[Candidate], dict[int, object]]:
    """The pool's active members as Candidates (sorted by id), and id → Planner for messages.

    Capacity = the policy's max_units_per_planner minus the distinct units held in appointments not
    over (None when the city sets no cap); held units are excluded by the engine (once per unit)."""
    planners = dispatchable_planners(city=city).order_by("pk")
    if planner_ids is not None:
        planners = planners.filter(pk__in=list(planner_ids))
    planners = list(planners)
    ids = [p.pk for p in planners]
    held = held_units_by_planner(city=city, on=on, planner_ids=ids)
    conflicts = conflicts_by_planner(ids)
    grades = last_grade_scores(ids)
    cap = unit_cap(city)
    candidates = [
        candidate_from(p, cap=cap, held=held.get(p.pk, set()), conflicts=conflicts.get(p.pk, (set(), set())),
                       grade=grades.get(p.pk))
        for p in planners
    ]
    return candidates, {p.pk: p for p in planners}


def slot_label(unit) -> str:
    return f"{unit.district.name}·{unit.name}"


def role_label(city: City, code: str) -> str:
    for item in city.policy.roles or []:
        if item.get("code") == code:
            return item.get("label") or code
    return code


def specialty_labels(city: City, codes) -> tuple[tuple[str, str], ...]:
    return tuple((code, city.policy.specialty_label(code)) for code in codes)


def make_slot(*, key: str, request_id: int, unit, role: str, specialties, city: City) -> Slot:
    """One slot with the Chinese labels the engine's explanations use."""
    wanted = tuple(sorted(specialties or []))
    return Slot(
        key=key, request_id=request_id, unit_id=unit.pk, district_id=unit.district_id, role=role,
        specialties=wanted, label=slot_label(unit), district_label=unit.district.name,
        role_label=role_label(city, role), specialty_labels=specialty_labels(city, wanted),
    )


def build_slots(requests, *, city: City, on=None) -> tuple[list[Slot], dict[int, set[int]]]:
    """For each request (by id) and unit (by id): slots_per_unit minus the appointments already
    serving that unit in that role (so a rerun after confirmation does not fill twice). Two
    requests for the same unit and role share the target, they do not add up.

    Returns the slots and request id → ids of its units with nothing left to fill."""
    requests = sorted(requests, key=lambda r: r.pk)
    unit_ids = {u.pk for r in requests for u in r.units.all()}
    filled = coverage_by_unit_role(unit_ids=unit_ids, on=on)
    slots: list[Slot] = []
    complete: dict[int, set[int]] = defaultdict(set)
    for request in requests:
        for unit in sorted(request.units.all(), key=lambda u: u.pk):
            key = (unit.pk, request.role)
            have = filled[key]
            need = max(0, request.slots_per_unit - have)
            if need == 0:
                complete[request.pk].add(unit.pk)
            for n in range(have + 1, have + need + 1):
                slots.append(make_slot(
                    key=f"r{request.pk}:u{unit.pk}:{request.role}:{n}", request_id=request.pk, unit=unit,
                    role=request.role, specialties=request.specialties, city=city,
                ))
            filled[key] = have + need
    return slots, complete


def input_digest(slots, candidates, weights, side_rules) -> str:
    """SHA-256 of the engine input in a canonical form: the same state gives the same digest."""

    def canon(value):
        if isinstance(value, (set, frozenset)):
            return sorted(value)
        if isinstance(value, tuple):
            return list(value)
        return value

    payload = {
        "slots": [{k: canon(v) for k, v in asdict(s).items()} for s in sorted(slots, key=lambda s: s.key)],
        "candidates": [{k: canon(v) for k, v in asdict(c).items()} for c in sorted(candidates, key=lambda c: c.planner_id)],
        "weights": asdict(weights),
        "side_rules": {k: canon(v) for k, v in asdict(side_rules).items()} if side_rules is not None else None,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=canon).encode()).hexdigest()
