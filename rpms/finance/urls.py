from django.urls import path

from . import views

app_name = "finance"

urlpatterns = [
    path("", views.home, name="home"),
    path("allowances/", views.allowance_list, name="allowance_list"),
    path("allowances/generate/", views.allowance_generate, name="allowance_generate"),
    path("allowances/<int:pk>/", views.allowance_detail, name="allowance_detail"),
    path("fees/", views.fee_list, name="fee_list"),
    path("fees/appointments/<int:appointment_id>/", views.fee_schedule, name="fee_schedule"),
]
