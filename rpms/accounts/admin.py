from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from rpms.core.roles import ADMIN_ROLES

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

    # 三权分立: the administrator roles are given only at installation (manage.py create_administrators): the
    # Django admin neither offers them nor changes an administrator's role or makes it staff or superuser.
    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role":
            kwargs["choices"] = [c for c in db_field.get_choices(include_blank=True, blank_choice=[("", "（无角色）")])
                                 if c[0] not in ADMIN_ROLES]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.role in ADMIN_ROLES:
            fields += ("role", "is_staff", "is_superuser")
        return fields

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
