from django.urls import path

from . import views

app_name = "recruitment"
urlpatterns = [
    path("", views.call_list, name="call_list"),
    path("calls/<int:pk>/", views.call_detail, name="call_detail"),
    path("calls/<int:pk>/apply/", views.apply, name="apply"),
    path("notices/<int:pk>/", views.notice_detail, name="notice_detail"),
    path("notices/<int:pk>/objections/", views.objection_submit, name="objection_submit"),
    path("mine/", views.my_applications, name="my_applications"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/proofs/", views.proof_upload, name="proof_upload"),
    path("applications/<int:pk>/proofs/<int:proof_pk>/", views.proof_download, name="proof_download"),
    path("applications/<int:pk>/review/", views.review, name="review"),
    path("manage/", views.manage, name="manage"),
    path("manage/calls/<int:pk>/", views.manage_call, name="manage_call"),
    path("manage/calls/<int:pk>/publish/", views.call_publish, name="call_publish"),
    path("manage/calls/<int:pk>/notices/", views.notice_publish, name="notice_publish"),
    path("manage/notices/<int:pk>/", views.manage_notice, name="manage_notice"),
    path("manage/notices/<int:pk>/evidence/", views.notice_evidence, name="notice_evidence"),
    path("manage/notices/<int:pk>/close/", views.notice_close, name="notice_close"),
    path("manage/objections/<int:pk>/resolve/", views.objection_resolve, name="objection_resolve"),
]
