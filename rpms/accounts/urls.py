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

# The city administrator's accounts of its city and the officers' delegations (issue 17 item 7; city_views).
from . import city_views  # noqa: E402

urlpatterns += [
    path("city/", city_views.city_account_list, name="city_account_list"),
    path("city/export/", city_views.city_account_export, name="city_account_export"),
    path("city/new/", city_views.city_account_create, name="city_account_create"),
    path("city/<int:pk>/", city_views.city_account_detail, name="city_account_detail"),
    path("city/<int:pk>/edit/", city_views.city_account_edit, name="city_account_edit"),
    path("city/<int:pk>/deactivate/", city_views.city_account_deactivate, name="city_account_deactivate"),
    path("city/<int:pk>/reactivate/", city_views.city_account_reactivate, name="city_account_reactivate"),
    path("city/<int:pk>/password-reset/", city_views.city_account_password_reset, name="city_account_password_reset"),
    path("delegations/", city_views.delegation_list, name="delegation_list"),
    path("delegations/<int:pk>/revoke/", city_views.delegation_revoke, name="delegation_revoke"),
]
