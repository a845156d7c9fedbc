from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("", views.home, name="home"),
    path("planners/<int:pk>/", views.planner_page, name="planner"),
    path("planners/<int:pk>/certificate/", views.certificate_issue, name="certificate_issue"),
    path("certificates/<int:pk>.pdf", views.certificate_pdf, name="certificate_pdf"),
    path("records/", views.record_list, name="record_list"),
    path("records/new/", views.record_new, name="record_new"),
    path("records/<int:pk>/", views.record_detail, name="record_detail"),
    path("records/<int:pk>/evidence/", views.record_evidence, name="record_evidence"),
    path("courses/", views.course_list, name="course_list"),
    path("courses/new/", views.course_new, name="course_new"),
    path("courses/<int:pk>/", views.course_detail, name="course_detail"),
    path("courses/<int:pk>/edit/", views.course_edit, name="course_edit"),
    path("materials/<int:pk>/", views.material_page, name="material"),
    path("materials/<int:pk>/file", views.material_file, name="material_file"),
]
