"""Read-only admin views of dispatch records (every change goes through rpms.dispatch.services)."""
from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin

from .models import ConflictDeclaration, DispatchRequest, MatchingRun, Proposal


@admin.register(DispatchRequest)
class DispatchRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "city", "district", "role", "slots_per_unit", "status", "created_at")
    list_filter = ("city", "status")
    list_select_related = ("city", "district")


@admin.register(ConflictDeclaration)
class ConflictDeclarationAdmin(ReadOnlyAdmin):
    list_display = ("id", "planner", "unit", "district", "kind", "created_at", "withdrawn_at")
    list_select_related = ("planner", "unit", "district")


@admin.register(MatchingRun)
class MatchingRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "city", "created_at", "slot_count", "objective", "optimal", "seconds", "method")
    list_filter = ("city",)
    list_select_related = ("city",)


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = ("id", "run", "unit", "role", "planner", "score", "status")
    list_filter = ("status",)
    list_select_related = ("run", "unit", "planner")
