from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ApiToken, User
from .services import user_unlock


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "role", "city", "is_active", "locked_until", "last_login")
    list_filter = ("role", "city", "is_active", "is_staff")
    search_fields = ("username", "display_name", "email")
    filter_horizontal = ("districts", "subdistricts", "groups", "user_permissions")
    readonly_fields = ("failed_login_count", "locked_until", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("身份与范围", {"fields": ("display_name", "email", "role", "city", "districts", "subdistricts")}),
        ("状态", {"fields": ("is_active", "failed_login_count", "locked_until", "last_login", "date_joined")}),
        ("后台权限", {"classes": ("collapse",), "fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2", "display_name", "role", "city")}),
    )
    actions = ["unlock"]

    @admin.action(description="解除所选账户的登录锁定")
    def unlock(self, request, queryset):
        for user in queryset:
            user_unlock(actor=request.user, user=user)
        messages.success(request, f"已解除 {queryset.count()} 个账户的锁定。")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at", "expires_at", "revoked_at")
    readonly_fields = ("user", "digest", "created_at", "expires_at", "revoked_at")

    def has_add_permission(self, request):
        return False
