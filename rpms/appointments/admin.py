from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    Appointment,
    AppointmentImport,
    AppointmentTerm,
    DistrictChief,
    SelectionProposal,
    SignedContract,
    TerminationRequest,
    Withdrawal,
)


class TermInline(ReadOnlyInline):
    model = AppointmentTerm
    fields = ("term_no", "kind", "start", "end", "years", "contract_number", "paper_contract_number", "signed_on")


class TerminationInline(ReadOnlyInline):
    model = TerminationRequest
    fields = ("initiator", "reason", "breach", "status", "requested_at", "consented_at", "effective_on",
              "refused_at", "refusal_reason", "withdrawn_at", "statement", "statement_at")


class WithdrawalInline(ReadOnlyInline):
    model = Withdrawal
    fk_name = "appointment"
    fields = ("requested_on", "leave_date", "earliest", "reason", "replacement")


class SignedContractInline(ReadOnlyInline):
    model = SignedContract
    fields = ("term_no", "signed_on", "fee_yuan", "original_name", "sha256", "status", "submitted_at", "submitted_by",
              "decided_at", "decided_by", "return_reason")


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ("unit", "planner", "role", "start", "end", "status", "ended_on", "term_no", "contract_state",
                    "filed_at", "disclosed")
    list_filter = ("city", "status", "role", "contract_state", "disclosed")
    search_fields = ("planner__name", "unit__name")
    list_select_related = ("unit", "planner")
    inlines = [TermInline, SignedContractInline, TerminationInline, WithdrawalInline]


@admin.register(SelectionProposal)
class SelectionProposalAdmin(ReadOnlyAdmin):
    list_display = ("unit", "planner", "role", "start", "status", "proposed_by", "proposed_at", "decided_by", "decided_at")
    list_filter = ("city", "status")
    search_fields = ("planner__name", "unit__name")
    list_select_related = ("unit", "planner", "proposed_by", "decided_by")


@admin.register(DistrictChief)
class DistrictChiefAdmin(ReadOnlyAdmin):
    list_display = ("district", "planner", "start", "end", "status")
    list_filter = ("status",)


@admin.register(AppointmentImport)
class AppointmentImportAdmin(ReadOnlyAdmin):
    list_display = ("pk", "file_name", "city", "status", "total_rows", "valid_rows", "error_rows", "imported_rows",
                    "uploaded_by", "created_at", "finished_at")
    list_filter = ("city", "status")
    search_fields = ("file_name",)
    list_select_related = ("city", "uploaded_by")
