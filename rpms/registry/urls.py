from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("", views.pool_list, name="pool_list"),
    path("export.xlsx", views.pool_export, name="pool_export"),
    path("mine/", views.my_dossier, name="my_dossier"),
    path("commission/", views.commission, name="commission"),
    path("<int:pk>/", views.dossier, name="dossier"),
    path("<int:pk>/remove/", views.remove, name="remove"),
    path("<int:pk>/leave/", views.leave, name="leave"),
    path("<int:pk>/members/", views.member_add, name="member_add"),
]
