from django.urls import path

from . import views

app_name = "duties"

urlpatterns = [
    path("", views.home, name="home"),
    path("units/<int:pk>/", views.unit_page, name="unit"),
    # duty records
    path("records/", views.record_list, name="record_list"),
    path("records/<int:pk>/", views.record_detail, name="record_detail"),
    path("records/<int:pk>/edit/", views.record_edit, name="record_edit"),
    path("records/<int:pk>/delete/", views.record_delete, name="record_delete"),
    path("records/<int:pk>/confirm/", views.record_confirm, name="record_confirm"),
    path("records/<int:pk>/query/", views.record_query, name="record_query"),
    path("records/<int:pk>/answer/", views.record_answer, name="record_answer"),
    path("records/<int:pk>/evidence/", views.evidence_add, name="evidence_add"),
    path("records/<int:pk>/evidence/<int:eid>/", views.evidence_download, name="evidence_download"),
    path("records/<int:pk>/evidence/<int:eid>/remove/", views.evidence_remove, name="evidence_remove"),
    path("calendar/", views.calendar_page, name="calendar"),
    path("summary/", views.summary_page, name="summary"),
    # data requests
    path("data-requests/", views.request_list, name="request_list"),
    path("data-requests/new/", views.request_create, name="request_create"),
    path("data-requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("data-requests/<int:pk>/deliver/", views.request_deliver, name="request_deliver"),
    path("data-requests/<int:pk>/refuse/", views.request_refuse, name="request_refuse"),
    path("data-requests/<int:pk>/materials/", views.material_add, name="material_add"),
    path("data-requests/<int:pk>/materials/<int:mid>/", views.material_download, name="material_download"),
    # work certificates
    path("certificates/", views.certificate_list, name="certificate_list"),
    path("certificates/new/", views.certificate_create, name="certificate_create"),
    path("certificates/<int:pk>/", views.certificate_detail, name="certificate_detail"),
    path("certificates/<int:pk>/pdf/", views.certificate_pdf, name="certificate_pdf"),
    path("certificates/<int:pk>/revoke/", views.certificate_revoke, name="certificate_revoke"),
    # extra contracted work
    path("extra-work/", views.extra_list, name="extra_list"),
    path("extra-work/new/", views.extra_create, name="extra_create"),
    path("extra-work/<int:pk>/", views.extra_detail, name="extra_detail"),
    path("extra-work/<int:pk>/edit/", views.extra_edit, name="extra_edit"),
    path("extra-work/<int:pk>/status/", views.extra_status, name="extra_status"),
    # monitoring feedback
    path("feedback/", views.feedback_list, name="feedback_list"),
    path("feedback/new/", views.feedback_create, name="feedback_create"),
    path("feedback/<int:pk>/", views.feedback_detail, name="feedback_detail"),
    path("feedback/<int:pk>/answer/", views.feedback_answer, name="feedback_answer"),
]
