from django.urls import path

from . import twofactor_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change_view, name="password_change"),
    path("register/", views.register_view, name="register"),
    path("2fa/", twofactor_views.twofactor_view, name="twofactor"),
    path("2fa/verify/", twofactor_views.twofactor_verify_view, name="twofactor_verify"),
    path("2fa/setup/", twofactor_views.twofactor_setup_view, name="twofactor_setup"),
    path("2fa/reset/<int:user_id>/", twofactor_views.twofactor_reset_view, name="twofactor_reset"),
]

# The separated administrators' account management (issue 16 item 2; rpms.accounts.manage_views).
from . import manage_views  # noqa: E402

urlpatterns += [
    path("manage/", manage_views.manage_list, name="manage_list"),
    path("manage/export/", manage_views.manage_export, name="manage_export"),
    path("manage/new/", manage_views.manage_create, name="manage_create"),
    path("manage/<int:pk>/", manage_views.manage_detail, name="manage_detail"),
    path("manage/<int:pk>/edit/", manage_views.manage_edit, name="manage_edit"),
    path("manage/<int:pk>/deactivate/", manage_views.manage_deactivate, name="manage_deactivate"),
    path("manage/<int:pk>/reactivate/", manage_views.manage_reactivate, name="manage_reactivate"),
    path("manage/<int:pk>/password-reset/", manage_views.manage_password_reset, name="manage_password_reset"),
    path("manage/<int:pk>/role/", manage_views.manage_role, name="manage_role"),
    path("manage/<int:pk>/unlock/", manage_views.manage_unlock, name="manage_unlock"),
]
