"""Read-only admin: assessments, violations, flags, district assessments and honours change only through
the audited services."""
from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import Assessment, AssessmentScore, DistrictAssessment, Honour, ReplacementFlag, Violation


class ScoreInline(ReadOnlyInline):
    model = AssessmentScore
    fields = ("source", "criterion", "score", "comment", "scored_by", "scored_at")
    readonly_fields = fields


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ("planner", "unit", "year", "assessing_body", "status", "grade_label", "total_score", "graded_at")
    list_filter = ("city", "year", "status", "grade")
    search_fields = ("planner__name", "unit__name")
    list_select_related = ("planner", "unit")
    readonly_fields = [f.name for f in Assessment._meta.fields]
    inlines = [ScoreInline]


@admin.register(Violation)
class ViolationAdmin(ReadOnlyAdmin):
    list_display = ("planner", "kind", "occurred_on", "district", "reported_city_at", "reported_employer_at")
    list_filter = ("city", "kind")
    search_fields = ("planner__name",)
    list_select_related = ("planner", "district")
    readonly_fields = [f.name for f in Violation._meta.fields]


@admin.register(ReplacementFlag)
class ReplacementFlagAdmin(ReadOnlyAdmin):
    list_display = ("unit", "planner", "status", "created_at", "resolved_at")
    list_filter = ("city", "status")
    list_select_related = ("unit", "planner")
    readonly_fields = [f.name for f in ReplacementFlag._meta.fields]


@admin.register(DistrictAssessment)
class DistrictAssessmentAdmin(ReadOnlyAdmin):
    list_display = ("district", "year", "computed_score", "score", "assessed_at")
    list_filter = ("city", "year")
    list_select_related = ("district",)
    readonly_fields = [f.name for f in DistrictAssessment._meta.fields]


@admin.register(Honour)
class HonourAdmin(ReadOnlyAdmin):
    list_display = ("planner", "year", "district", "status", "published_at")
    list_filter = ("city", "year", "status")
    search_fields = ("planner__name",)
    list_select_related = ("planner", "district")
    readonly_fields = [f.name for f in Honour._meta.fields]
