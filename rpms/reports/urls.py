from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.statistics_page, name="statistics"),
    path("export/", views.statistics_export, name="statistics_export"),
]
