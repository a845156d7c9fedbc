"""Read-only admin views: every change goes through rpms.finance.services (audited)."""
from django.contrib import admin

from .models import Allowance, AllowanceReconciliation, FeeInstallment, FeePayment


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Allowance)
class AllowanceAdmin(_ReadOnly):
    list_display = ("planner", "kind", "district", "cycle_no", "cycle_start", "served_until", "amount_yuan", "due_on", "status",
                    "paid_on")
    list_filter = ("city", "status", "kind")
    search_fields = ("planner__name", "voucher_no")


@admin.register(FeeInstallment)
class FeeInstallmentAdmin(_ReadOnly):
    list_display = ("appointment", "term_no", "seq", "due_on", "pay_by", "amount_yuan", "paid_yuan", "status")
    list_filter = ("city", "status")


@admin.register(FeePayment)
class FeePaymentAdmin(_ReadOnly):
    list_display = ("installment", "paid_on", "amount_yuan", "voucher_no")
    list_filter = ("city",)


@admin.register(AllowanceReconciliation)
class AllowanceReconciliationAdmin(_ReadOnly):
    list_display = ("planner", "cycle_no", "cycle_start", "due_yuan", "paid_yuan", "difference_yuan", "reconciled_on")
    list_filter = ("city",)
    search_fields = ("planner__name",)
