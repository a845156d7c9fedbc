"""Read-only admin: every change goes through an audited service, and nothing here is ever deleted.
Residents' contact details are not shown in the admin (the suggestion's page shows them to its handlers)."""
from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import Suggestion, SuggestionPhoto, SuggestionRecipient, SuggestionReply, WorkProposal


class RecipientInline(ReadOnlyInline):
    model = SuggestionRecipient
    fields = ("planner", "appointment", "delivered_at")
    readonly_fields = fields


class ReplyInline(ReadOnlyInline):
    model = SuggestionReply
    fields = ("author_label", "replied_at", "text")
    readonly_fields = fields


class PhotoInline(ReadOnlyInline):
    model = SuggestionPhoto
    fields = ("original_name", "kind", "size", "sha256")
    readonly_fields = fields


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    list_display = ("tracking_code", "city", "district", "unit", "category", "status", "received_on", "due_on",
                    "unit_vacant", "hidden_at")
    list_filter = ("city", "status", "category", "unit_vacant")
    search_fields = ("tracking_code",)
    list_select_related = ("city", "district", "unit")
    exclude = ("contact_name", "contact_phone")
    inlines = (RecipientInline, ReplyInline, PhotoInline)


@admin.register(WorkProposal)
class WorkProposalAdmin(ReadOnlyAdmin):
    list_display = ("title", "city", "unit", "planner", "status", "submitted_at", "acknowledged_at")
    list_filter = ("city", "status")
    list_select_related = ("city", "unit", "planner")
