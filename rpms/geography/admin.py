"""Read-only admin views of the geography: every change goes through rpms.geography.services (audited),
via the pages /geography/… or the API /api/v1/units/…"""
from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import District, ResponsibilityUnit, Subdistrict, UnitMembership, Department


@admin.register(District)
class DistrictAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "city", "zone_type", "is_development_zone", "sort_order")
    list_filter = ("city", "zone_type", "is_development_zone")
    search_fields = ("name", "code")


@admin.register(Subdistrict)
class SubdistrictAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "district", "kind", "zone_type_override", "is_development_zone", "is_statistical")
    list_filter = ("district__city", "kind", "is_development_zone", "is_statistical", "district")
    search_fields = ("name", "code")
    list_select_related = ("district",)


class UnitMembershipInline(ReadOnlyInline):
    model = UnitMembership
    fields = ("subdistrict", "joined_at", "left_at")
    readonly_fields = fields
    verbose_name = "组成街道乡镇"
    verbose_name_plural = "组成街道乡镇（含历史）"


    def get_queryset(self, request):
        return super().get_queryset(request).select_related("subdistrict")


@admin.register(ResponsibilityUnit)
class ResponsibilityUnitAdmin(ReadOnlyAdmin):
    list_display = ("name", "district", "city", "status", "created_at", "dissolved_at")
    list_filter = ("city", "district", ("dissolved_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "memberships__subdistrict__name")
    list_select_related = ("district", "city")
    inlines = [UnitMembershipInline]

    @admin.display(description="状态")
    def status(self, obj):
        return "现行" if obj.is_active else "已撤销"


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    """Departments are a plain directory (no rule attaches to them); administrators keep it here."""

    list_display = ("name", "city", "district", "contact", "is_active")
    list_filter = ("city", "is_active")
    search_fields = ("name",)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: answers already recorded refer to the department

    def save_model(self, request, obj, form, change):
        from django.db import transaction

        from rpms.core.audit import audit_log, snapshot

        with transaction.atomic():
            before = snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
            super().save_model(request, obj, form, change)
            audit_log(actor=request.user, action="geography.department_save", obj=obj, before=before,
                      after=snapshot(obj), summary=f"{'修改' if change else '新增'}相关部门：{obj.name}",
                      city_code=obj.city.code)
