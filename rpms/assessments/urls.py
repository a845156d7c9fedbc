from django.urls import path

from . import views

app_name = "assessments"

urlpatterns = [
    path("", views.assessment_list, name="list"),
    path("due/", views.assessment_due, name="due"),
    path("open/", views.assessment_open, name="open"),
    path("<int:pk>/", views.assessment_detail, name="detail"),
    path("<int:pk>/scores/", views.assessment_scores, name="scores"),
    path("<int:pk>/self-report/", views.assessment_self_report, name="self_report"),
    path("<int:pk>/feedback/", views.assessment_feedback, name="feedback"),
    path("<int:pk>/absence/", views.assessment_absence, name="absence"),
    path("<int:pk>/renewal-condition/", views.assessment_renewal_condition, name="renewal_condition"),
    path("<int:pk>/grade/", views.assessment_grade, name="grade"),
    path("<int:pk>/result.pdf", views.assessment_result_pdf, name="result_pdf"),
    path("violations/", views.violation_list, name="violations"),
    path("violations/new/", views.violation_new, name="violation_new"),
    path("violations/<int:pk>/", views.violation_detail, name="violation_detail"),
    path("violations/<int:pk>/report/", views.violation_report, name="violation_report"),
    path("flags/", views.flag_list, name="flags"),
    path("flags/<int:pk>/resolve/", views.flag_resolve, name="flag_resolve"),
    path("districts/", views.district_overview, name="districts"),
    path("districts/record/", views.district_record, name="district_record"),
    path("honours/", views.honours_public, name="honours_public"),
    path("honours/manage/", views.honour_manage, name="honour_manage"),
    path("honours/nominate/", views.honour_nominate, name="honour_nominate"),
    path("honours/publish/", views.honour_publish, name="honour_publish"),
    path("honours/<int:pk>/decide/", views.honour_decide, name="honour_decide"),
    path("honours/<int:pk>/certificate.pdf", views.honour_certificate, name="honour_certificate"),
]
