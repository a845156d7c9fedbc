from django.urls import path

from . import import_views, limit_views, views

app_name = "registry"
urlpatterns = [
    path("", views.pool_list, name="pool_list"),
    path("export.xlsx", views.pool_export, name="pool_export"),
    path("mine/", views.my_dossier, name="my_dossier"),
    path("commission/", views.commission, name="commission"),
    path("import/", import_views.import_upload, name="import_upload"),
    path("import/template.xlsx", import_views.import_template, name="import_template"),
    path("import/<int:pk>/", import_views.import_report, name="import_report"),
    path("import/<int:pk>/errors.xlsx", import_views.import_errors, name="import_errors"),
    path("import/<int:pk>/start/", import_views.import_start, name="import_start"),
    path("import/<int:pk>/step/", import_views.import_step, name="import_step"),
    path("import/<int:pk>/progress/", import_views.import_progress, name="import_progress"),
    # Exceptions to in-principle limits (B18, B19(2), B19(7)).
    path("exceptions/", limit_views.exception_list, name="exceptions"),
    path("exceptions/<int:pk>/", limit_views.exception_detail, name="exception_detail"),
    path("exceptions/<int:pk>/approve/", limit_views.exception_approve, name="exception_approve"),
    path("exceptions/<int:pk>/refuse/", limit_views.exception_refuse, name="exception_refuse"),
    path("<int:pk>/", views.dossier, name="dossier"),
    path("<int:pk>/remove/", views.remove, name="remove"),
    path("<int:pk>/leave/", views.leave, name="leave"),
    path("<int:pk>/members/", views.member_add, name="member_add"),
]
