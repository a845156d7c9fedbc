"""Every status field declares its transitions (rpms.core.states), and services move through them (#14).

- each model field with choices named status/state (or *_status/*_state) is covered by a complete table:
  every choice is a key, every target is a choice;
- forbidden moves are refused with 409 `invalid_transition` and a Chinese message;
- no service module assigns a status field directly (`obj.status = ...`): they call `move_to()`."""
import ast
import pathlib

import pytest
from django.apps import apps

from rpms.core.errors import Conflict
from rpms.core.states import StatusTransitions

ROOT = pathlib.Path(__file__).resolve().parents[2]  # rpms/


def _is_status_field(field) -> bool:
    name = getattr(field, "name", "")
    return bool(getattr(field, "choices", None)) and (
        name in ("status", "state") or name.endswith("_status") or name.endswith("_state")
    )


def status_fields():
    for model in apps.get_models():
        if not model.__module__.startswith("rpms."):
            continue
        for field in model._meta.get_fields():
            if _is_status_field(field):
                yield model, field


STATUS_FIELDS = sorted((f"{m._meta.label}.{f.name}", m, f) for m, f in status_fields())


def test_the_walk_finds_the_status_fields():
    labels = {label for label, _, _ in STATUS_FIELDS}
    # the fields #14 named, among the rest
    for expected in ("appointments.Appointment.status", "appointments.TerminationRequest.status",
                     "suggestions.Suggestion.status", "finance.Allowance.status", "finance.FeeInstallment.status",
                     "dispatch.Proposal.status", "publicinfo.Announcement.status", "training.TrainingRecord.status",
                     "appointments.Appointment.contract_state", "registry.Planner.pool_status"):
        assert expected in labels
    assert len(STATUS_FIELDS) >= 30


@pytest.mark.parametrize("label,model,field", STATUS_FIELDS, ids=[label for label, _, _ in STATUS_FIELDS])
def test_every_status_field_declares_a_complete_table(label, model, field):
    assert issubclass(model, StatusTransitions), f"{label}: the model does not use rpms.core.states.StatusTransitions"
    table = model.TRANSITIONS.get(field.name)
    assert table is not None, f"{label}: no transition table"
    choices = {str(value) for value, _ in field.flatchoices}
    keys = {str(k) for k in table}
    assert keys == choices, f"{label}: states without a row {choices - keys}, rows that are no state {keys - choices}"
    for source, targets in table.items():
        unknown = {str(t) for t in targets} - choices
        assert not unknown, f"{label}: {source} → unknown states {unknown}"
    if field.has_default():  # where a record starts is a state of the table
        assert str(field.default) in keys


# --- forbidden moves are refused ------------------------------------------------------------------


def _refused(instance, to, **kwargs):
    before = getattr(instance, kwargs.get("field", "status"))
    with pytest.raises(Conflict) as refused:
        instance.move_to(to, **kwargs)
    assert refused.value.code == "invalid_transition" and refused.value.status == 409
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)
    assert getattr(instance, kwargs.get("field", "status")) == before  # nothing changed
    return refused.value


def test_forbidden_moves_of_the_new_tables_are_refused():
    from rpms.appointments.models import (
        Appointment,
        AppointmentStatus,
        ContractState,
        SelectionProposal,
        SelectionStatus,
        TerminationRequest,
        TerminationStatus,
    )
    from rpms.finance.models import Allowance, AllowanceStatus, FeeInstallment, InstallmentStatus
    from rpms.publicinfo.models import Announcement, PublicationStatus
    from rpms.suggestions.models import Suggestion, SuggestionStatus
    from rpms.training.models import RecordStatus, TrainingRecord

    error = _refused(Appointment(status=AppointmentStatus.TERMINATED), AppointmentStatus.ACTIVE)
    assert "不能变为" in error.message and AppointmentStatus.ACTIVE.label in error.message
    _refused(Appointment(contract_state=ContractState.FILED), ContractState.SUBMITTED, field="contract_state")
    _refused(TerminationRequest(status=TerminationStatus.REFUSED), TerminationStatus.EFFECTIVE)
    _refused(SelectionProposal(status=SelectionStatus.RETURNED), SelectionStatus.APPROVED)
    _refused(Suggestion(status=SuggestionStatus.CLOSED), SuggestionStatus.ANSWERED)
    _refused(Suggestion(status=SuggestionStatus.FORWARDED), SuggestionStatus.FORWARDED)  # forwarded once
    _refused(Allowance(status=AllowanceStatus.PAID), AllowanceStatus.DUE)
    _refused(FeeInstallment(status=InstallmentStatus.PAID), InstallmentStatus.PARTIAL)
    _refused(Announcement(status=PublicationStatus.WITHDRAWN), PublicationStatus.PUBLISHED)
    _refused(Announcement(status=PublicationStatus.DRAFT), PublicationStatus.WITHDRAWN)
    _refused(TrainingRecord(status=RecordStatus.REJECTED), RecordStatus.CONFIRMED)


def test_allowed_moves_set_the_field_and_return_the_previous_state():
    from rpms.appointments.models import Appointment, ContractState
    from rpms.finance.models import FeeInstallment, InstallmentStatus

    installment = FeeInstallment(status=InstallmentStatus.UNPAID)
    assert installment.move_to(InstallmentStatus.PARTIAL) == InstallmentStatus.UNPAID
    assert installment.status == InstallmentStatus.PARTIAL
    assert installment.can_transition(InstallmentStatus.PAID)
    appointment = Appointment(contract_state=ContractState.SUBMITTED)
    appointment.move_to(ContractState.RETURNED, field="contract_state")
    assert appointment.contract_state == ContractState.RETURNED


def test_a_service_message_and_code_replace_the_default():
    from rpms.dispatch.models import Proposal, ProposalStatus

    with pytest.raises(Conflict) as refused:
        Proposal(status=ProposalStatus.CONFIRMED).move_to(ProposalStatus.REPLACED, message="不能替换。", code="proposal_not_open")
    assert refused.value.code == "proposal_not_open" and refused.value.message == "不能替换。"


# --- services move through the table ---------------------------------------------------------------


def _status_field_names() -> set[str]:
    return {field.name for _, _, field in STATUS_FIELDS}


def _write_modules():
    """Every module that writes: services (module or package) and the apps' other write modules."""
    for path in sorted(ROOT.glob("*/**/*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in ("testing",) or "tests" in rel.parts or "migrations" in rel.parts:
            continue
        if path.name in ("models.py", "states.py", "admin.py"):  # the tables themselves; admin forms edit fields
            continue
        yield path


def test_no_module_assigns_a_status_field_directly():
    names = _status_field_names()
    offenders = []
    for path in _write_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in names and not (
                    isinstance(target.value, ast.Name) and target.value.id in ("self", "cls", "error", "exc")
                ):
                    offenders.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {ast.unparse(target)} = …")
    assert not offenders, "status set without move_to():\n" + "\n".join(offenders)
