from django.urls import path

from . import import_views, limit_views, profile_views, views

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
    # Issue #17 item 8: profiles and teams kept current.
    path("mine/profile/", profile_views.profile_edit, name="profile_edit"),
    path("profile-changes/", profile_views.profile_change_list, name="profile_changes"),
    path("profile-changes/<int:pk>/", profile_views.profile_change_detail, name="profile_change_detail"),
    path("profile-changes/<int:pk>/proof/", profile_views.profile_change_proof, name="profile_change_proof"),
    path("profile-changes/<int:pk>/approve/", profile_views.profile_change_approve, name="profile_change_approve"),
    path("profile-changes/<int:pk>/reject/", profile_views.profile_change_reject, name="profile_change_reject"),
    path("teams/<int:pk>/", profile_views.team_detail, name="team"),
    path("teams/<int:pk>/members/", profile_views.team_member_add, name="team_member_add"),
    path("teams/<int:pk>/members/<int:member_id>/remove/", profile_views.team_member_remove, name="team_member_remove"),
    path("teams/<int:pk>/members/<int:member_id>/core/", profile_views.team_member_core, name="team_member_core"),
    path("teams/<int:pk>/members/<int:member_id>/invite/", profile_views.team_member_invite, name="team_member_invite"),
    path("teams/<int:pk>/leader/", profile_views.team_leader_change, name="team_leader"),
    path("teams/join/<str:token>/", profile_views.team_join, name="team_join"),
    path("<int:pk>/", views.dossier, name="dossier"),
    path("<int:pk>/remove/", views.remove, name="remove"),
    path("<int:pk>/leave/", views.leave, name="leave"),
    path("<int:pk>/members/", views.member_add, name="member_add"),
]
