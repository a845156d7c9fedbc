from django.urls import path

from . import views

app_name = "suggestions"

urlpatterns = [
    # public (no account)
    path("", views.public_search, name="public"),
    path("track/", views.track, name="track"),
    path("thanks/", views.thanks, name="thanks"),
    path("units/<int:unit_id>/", views.public_unit, name="public_unit"),
    path("units/<int:unit_id>/new/", views.public_submit, name="public_submit"),
    # staff
    path("manage/", views.manage_list, name="manage_list"),
    path("manage/export.xlsx", views.manage_export, name="manage_export"),
    path("manage/<int:pk>/", views.manage_detail, name="manage_detail"),
    path("manage/<int:pk>/reply/", views.manage_reply, name="manage_reply"),
    path("manage/<int:pk>/forward/", views.manage_forward, name="manage_forward"),
    path("manage/<int:pk>/department-answer/", views.manage_department_answer, name="manage_department_answer"),
    path("manage/<int:pk>/close/", views.manage_close, name="manage_close"),
    path("manage/<int:pk>/hide/", views.manage_hide, name="manage_hide"),
    path("manage/<int:pk>/unhide/", views.manage_unhide, name="manage_unhide"),
    path("manage/<int:pk>/release/", views.manage_release, name="manage_release"),
    path("manage/<int:pk>/photos/<int:photo_id>/", views.manage_photo, name="manage_photo"),
    # work proposals (B11(2))
    path("proposals/", views.proposal_list, name="proposal_list"),
    path("proposals/new/", views.proposal_new, name="proposal_new"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/acknowledge/", views.proposal_acknowledge, name="proposal_acknowledge"),
]
