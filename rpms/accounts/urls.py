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
