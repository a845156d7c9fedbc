from django.urls import path

from . import views

app_name = "geography"
urlpatterns = [
    path("units/", views.unit_list, name="unit_list"),
    path("units/merge/", views.unit_merge, name="unit_merge"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<int:pk>/split/", views.unit_split, name="unit_split"),
    path("units/<int:pk>/rename/", views.unit_rename, name="unit_rename"),
    path("districts/", views.district_list, name="district_list"),
    path("districts/<str:code>/", views.district_detail, name="district_detail"),
    path("districts/<str:code>/zone-type/", views.subdistrict_zone_type, name="subdistrict_zone_type"),
]
