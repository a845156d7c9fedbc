"""Signing and filing the contract (B19(3), P6(3)).

Who signs and who files is policy data (`contract_signer`, `contract_filer`):

- Beijing (B19(3)): the hiring entity and the planner sign; the entity uploads the signed, sealed scan
  (PDF) with the signing date and the agreed fee and submits it to the district work team; the district
  officer of the unit's district (or the city administrator) files it (`appointments.services.appointment_file`)
  or returns it with a reason; a returned contract is corrected and submitted again. Filing discloses
  the appointment (B19(7)).
- Pingdingshan (P6(3)): the city bureau signs the contract itself and the rules name no body that files
  it (`contract_filer` "none"). The bureau's submission of its signed contract is the record: it is
  filed and disclosed at once, in the same act (one audit row citing P6(3) and the disclosure article).

The scan is checked by its content (rpms.core.uploads: PDF only here, size-limited), stored under
PRIVATE_MEDIA_ROOT with a random name and downloadable only by the parties (`permissions.can_view`);
it is never public. Each submission is a `SignedContract` row; the appointment's `contract_state`
says where the contract stands (unsigned → submitted → filed, or → returned → submitted …)."""
import datetime as dt

from django.db import transaction

from rpms.cities.models import ContractFiler, ContractSigner
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.params import is_digits
from rpms.registry.models import DossierEventKind
from rpms.registry.services import dossier_event_record, full_clean_or_refuse

from . import permissions
from .common import _article_text, _lock_appointment, filing_body_for
from .models import OVER_STATUSES, AppointmentStatus, ContractState, SignedContract, SignedContractStatus
from .selectors import appointment_get, signed_contract_json  # noqa: F401  (the API serialises through signing)

FOLDER = "signed_contracts"
SNAPSHOT_FIELDS = ["contract_state", "fee_yuan", "filed_at", "filed_by", "disclosed"]


def files_on_submission(city) -> bool:
    """True where no separate body files the contract (contract_filer "none"): submission files it."""
    return city.policy.contract_filer == ContractFiler.NONE


def signer_label(appointment) -> str:
    if appointment.city.policy.contract_signer == ContractSigner.HIRING_ENTITY:
        return f"聘任主体（{appointment.party_a}）"
    return appointment.city.bureau_name or "市级主管部门"


def filer_label(appointment) -> str:
    """Whom the signed contract is submitted to for filing."""
    if files_on_submission(appointment.city):
        return ""
    return filing_body_for(appointment.unit)


def current_term_start(appointment) -> dt.date:
    for term in appointment.terms.all():
        if term.term_no == appointment.term_no:
            return term.start
    return appointment.start


def signing_date_earliest(appointment) -> dt.date:
    """The earliest accepted signing date: a contract is signed at the earliest when its term is being
    arranged — `contract_expiry_warning_days` before the term starts (the renewal window's length) — or,
    for a record made later than that, on the day the system issued the contract text."""
    days = appointment.city.policy.contract_expiry_warning_days
    issued = clock.localdate(appointment.created_at) if appointment.created_at else clock.today()
    return min(current_term_start(appointment) - dt.timedelta(days=days), issued)


def _parse_signed_on(value) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raw = str(value or "").strip()
    if not raw:
        raise DomainError("请填写聘用合同的签订日期（YYYY-MM-DD）。", code="missing_field")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise DomainError("签订日期格式不正确，应为 YYYY-MM-DD。", code="invalid_date") from None


def _parse_fee(value) -> int:
    if isinstance(value, bool) or value is None or str(value).strip() == "":
        raise DomainError("请填写合同约定的服务费用（元，不小于 0 的整数）。", code="missing_field")
    raw = str(value).strip()
    if not is_digits(raw):
        raise DomainError("服务费用应为不小于 0 的整数（元）。", code="invalid_fee")
    fee = int(raw)
    if fee > 100_000_000:
        raise DomainError("服务费用数额过大，请核对（单位：元）。", code="invalid_fee")
    return fee


def _require_in_force(appointment) -> None:
    if appointment.status != AppointmentStatus.ACTIVE or appointment.state() in OVER_STATUSES:
        raise Conflict(f"该聘任已{appointment.state_label()}，不能再办理合同签订和备案。", code="appointment_over")


@transaction.atomic
def signed_contract_submit(*, actor, appointment, file, signed_on, fee_yuan) -> SignedContract:
    """The signer (policy `contract_signer`) uploads the signed, sealed contract (PDF), its signing date
    (not in the future, not before `signing_date_earliest`) and the agreed fee (yuan) and submits it
    for filing; where nobody files (contract_filer "none") the submission files and discloses it."""
    from rpms.core.uploads import proof_check, proof_delete, proof_store

    appointment = _lock_appointment(appointment)
    if not permissions.can_view(actor, appointment):
        raise NotFound()
    if not permissions.is_contract_signer(actor, appointment):
        raise Forbidden(
            f"聘用合同由{signer_label(appointment)}签订，只有合同甲方可以上传签字盖章的聘用合同。",
            code="not_contract_signer",
        )
    _require_in_force(appointment)
    state = appointment.contract_state
    if state == ContractState.FILED or appointment.is_filed:
        raise Conflict("该聘用合同已备案，无需再次提交。", code="already_filed")
    if state == ContractState.SUBMITTED:
        raise Conflict(f"签订的聘用合同已提交，正待{filer_label(appointment)}备案；如需更正，请待退回后重新提交。",
                       code="contract_pending_filing")
    if file is None:
        raise DomainError("请上传签字盖章的聘用合同扫描件（PDF）。", code="file_required")
    signed_on = _parse_signed_on(signed_on)
    fee = _parse_fee(fee_yuan)
    today = clock.today()
    if signed_on > today:
        raise DomainError(f"签订日期 {signed_on.isoformat()} 晚于今天，请填写实际签订日期。", code="signed_on_in_future")
    earliest = signing_date_earliest(appointment)
    if signed_on < earliest:
        raise DomainError(
            f"签订日期 {signed_on.isoformat()} 过早：本聘期的聘用合同最早于 {earliest.isoformat()} 签订"
            f"（聘期开始前 {appointment.city.policy.contract_expiry_warning_days} 天内）。",
            code="signed_on_too_early",
        )
    if proof_check(file) != "pdf":
        raise DomainError("签字盖章的聘用合同扫描件须为 PDF 文件（按文件内容识别）。", code="upload_type_not_allowed")

    city = appointment.city
    at_once = files_on_submission(city)
    before = snapshot(appointment, SNAPSHOT_FIELDS)
    stored = proof_store(file, folder=FOLDER)
    try:
        with transaction.atomic():
            now = clock.now()
            row = SignedContract(
                appointment=appointment, term_no=appointment.term_no, signed_on=signed_on, fee_yuan=fee,
                path=stored.path, original_name=stored.original_name, size=stored.size, sha256=stored.sha256,
                status=SignedContractStatus.FILED if at_once else SignedContractStatus.SUBMITTED,
                submitted_at=now, submitted_by=actor,
                decided_at=now if at_once else None, decided_by=actor if at_once else None,
            )
            full_clean_or_refuse(row, validate_constraints=False)
            row.save()
            # B21: the fee is the one fixed in the signed contract.
            appointment.fee_yuan = fee
            fields = ["contract_state", "fee_yuan", "updated_at"]
            if at_once:
                appointment.move_to(ContractState.FILED, field="contract_state")
                appointment.filed_at = now
                appointment.filed_by = actor
                appointment.disclosed = True
                fields += ["filed_at", "filed_by", "disclosed"]
            else:
                appointment.move_to(ContractState.SUBMITTED, field="contract_state")
            appointment.save(update_fields=fields)
            article_signing = policy_article(city, "contract_signing")
            if at_once:
                article = _article_text(article_signing, policy_article(city, "disclosure"))
                dossier_event_record(
                    planner=appointment.planner, kind=DossierEventKind.CONTRACT_FILED, article=article, actor=actor,
                    source=appointment,
                    summary=f"{appointment.unit.name}{appointment.role_label}聘用合同由{signer_label(appointment)}签订，"
                            f"{signed_on} 签订，即作备案并公开",
                    data={"signed_on": signed_on.isoformat(), "fee_yuan": fee, "sha256": stored.sha256},
                )
                summary = f"市级主管部门签订聘用合同，即备案并公开：{appointment.planner.name} · {appointment.unit.name}"
            else:
                article = article_signing
                summary = (f"聘任主体提交签订的聘用合同，报{filer_label(appointment)}备案："
                           f"{appointment.planner.name} · {appointment.unit.name}")
            audit_log(
                actor=actor, action="appointments.signed_contract_submit", obj=appointment, before=before,
                after={**snapshot(appointment, SNAPSHOT_FIELDS), "signed_contract": row.pk,
                       "signed_on": signed_on.isoformat(), "sha256": stored.sha256},
                article=article, summary=summary,
            )
    except BaseException:
        proof_delete(stored.path)
        raise
    return row


@transaction.atomic
def signed_contract_return(*, actor, appointment, reason: str) -> SignedContract:
    """B19(3): the filing body returns a submitted signed contract with a reason (the signer corrects it
    and submits again). Where the policy names no filing body there is nothing to return."""
    appointment = _lock_appointment(appointment)
    if not permissions.can_view(actor, appointment) and not permissions.can_file(actor, appointment):
        raise NotFound()
    if not permissions.can_file(actor, appointment):
        raise Forbidden("只有责任单元所在区的工作专班或市级管理员可以退回报备的聘用合同。", code="not_filing_body")
    if files_on_submission(appointment.city):
        raise Conflict(f"{appointment.city.name}的聘用合同由市级主管部门签订，不另行备案，无需退回。",
                       code="no_filing_body")
    if appointment.contract_state != ContractState.SUBMITTED:
        raise Conflict(f"当前没有待备案的签订合同（{appointment.get_contract_state_display()}），不能退回。",
                       code="contract_not_submitted")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请写明退回理由，以便聘任主体更正后重新提交。", code="reason_required")
    if len(reason) > 2000:
        raise DomainError("退回理由过长（不超过 2000 字）。", code="invalid_field")
    row = (
        SignedContract.objects.select_for_update()
        .filter(appointment=appointment, status=SignedContractStatus.SUBMITTED).order_by("-submitted_at", "-id").first()
    )
    if row is None:  # a state without its row would be a bug; refuse rather than guess
        raise Conflict("当前没有待备案的签订合同，不能退回。", code="contract_not_submitted")
    before = snapshot(appointment, ["contract_state"])
    row.move_to(SignedContractStatus.RETURNED)
    row.return_reason = reason
    row.decided_at = clock.now()
    row.decided_by = actor
    row.save(update_fields=["status", "return_reason", "decided_at", "decided_by"])
    appointment.move_to(ContractState.RETURNED, field="contract_state")
    appointment.save(update_fields=["contract_state", "updated_at"])
    audit_log(
        actor=actor, action="appointments.signed_contract_return", obj=appointment, before=before,
        after={"contract_state": appointment.contract_state, "signed_contract": row.pk, "reason": reason},
        article=policy_article(appointment.city, "filing"),
        summary=f"退回报备的聘用合同：{appointment.planner.name} · {appointment.unit.name}",
    )
    return row


def file_submitted_contract(*, actor, appointment) -> SignedContract:
    """Within appointment_file (which holds the row lock and writes the audit row): the submitted signed
    contract becomes the filed one, or 409 when there is none to file."""
    if files_on_submission(appointment.city):
        raise Conflict(
            f"{appointment.city.name}的聘用合同由市级主管部门签订，不另行备案：市级主管部门上传签订的聘用合同即完成备案并公开。",
            code="no_filing_body",
        )
    row = None
    if appointment.contract_state == ContractState.SUBMITTED:
        row = (
            SignedContract.objects.select_for_update()
            .filter(appointment=appointment, status=SignedContractStatus.SUBMITTED)
            .order_by("-submitted_at", "-id").first()
        )
    if row is None:
        if appointment.contract_state == ContractState.RETURNED:
            detail = "报备的聘用合同已退回，待聘任主体更正后重新提交"
        else:
            detail = f"聘用合同尚未由{signer_label(appointment)}签订并提交签字盖章的扫描件"
        raise Conflict(f"{detail}，不能备案。", code="contract_not_submitted")
    row.move_to(SignedContractStatus.FILED)
    row.decided_at = clock.now()
    row.decided_by = actor
    row.save(update_fields=["status", "decided_at", "decided_by"])
    appointment.move_to(ContractState.FILED, field="contract_state")
    return row


# --- reads ------------------------------------------------------------------------------------------


def signed_contract_get(*, user, appointment_pk, pk=None) -> SignedContract:
    """A signed contract of an appointment the user may see (the parties: entity, planner, district,
    city); the latest one unless `pk` names another. Never public."""
    appointment = appointment_get(user=user, pk=appointment_pk)
    rows = list(appointment.signed_contracts.all())
    row = next((r for r in rows if r.pk == pk), None) if pk is not None else (rows[-1] if rows else None)
    if row is None:
        raise NotFound("尚未上传签订的聘用合同。")
    return row


def signed_contract_response(row: SignedContract, *, reader):
    from rpms.core.uploads import proof_response

    appointment = row.appointment
    name = f"{appointment.unit.name}-{appointment.planner.name}-签订的聘用合同-{row.signed_on.isoformat()}.pdf"
    return proof_response(row.path, download_name=name, reader=reader, obj=row)
