from django.urls import path

from . import existing_views, views

app_name = "appointments"

urlpatterns = [
    path("", views.appointment_list, name="list"),
    path("new/", views.appointment_new, name="new"),
    path("expiring/", views.expiring, name="expiring"),
    path("withdrawals/", views.withdrawals, name="withdrawals"),
    path("withdrawals/<int:pk>/", views.withdrawal_detail, name="withdrawal_detail"),
    path("withdrawals/<int:pk>/replace/", views.withdrawal_replace, name="withdrawal_replace"),
    path("removals/<int:pk>/", views.removal_detail, name="removal_detail"),
    path("removals/<int:pk>/replace/", views.removal_replace, name="removal_replace"),
    path("chiefs/", views.district_chiefs, name="chiefs"),
    # Running contracts entered with their history (existing_views).
    path("existing/new/", existing_views.existing_new, name="existing_new"),
    path("existing/import/", existing_views.import_upload, name="existing_import"),
    path("existing/import/template.xlsx", existing_views.import_template, name="existing_import_template"),
    path("existing/import/<int:pk>/", existing_views.import_report, name="existing_import_report"),
    path("existing/import/<int:pk>/errors.xlsx", existing_views.import_errors, name="existing_import_errors"),
    path("existing/import/<int:pk>/start/", existing_views.import_start, name="existing_import_start"),
    path("existing/import/<int:pk>/step/", existing_views.import_step, name="existing_import_step"),
    path("existing/import/<int:pk>/progress/", existing_views.import_progress, name="existing_import_progress"),
    path("public/", views.public_list, name="public_list"),
    path("units/<int:pk>/", views.public_unit, name="public_unit"),
    path("<int:pk>/", views.appointment_detail, name="detail"),
    path("<int:pk>/file/", views.appointment_file, name="file"),
    path("<int:pk>/renew/", views.appointment_renew, name="renew"),
    path("<int:pk>/terminate/", views.appointment_terminate, name="terminate"),
    path("<int:pk>/terminate/consent/", views.appointment_terminate_consent, name="terminate_consent"),
    path("<int:pk>/terminate/refuse/", views.appointment_terminate_refuse, name="terminate_refuse"),
    path("<int:pk>/terminate/withdraw/", views.appointment_terminate_withdraw, name="terminate_withdraw"),
    path("<int:pk>/terminate/evidence/", views.appointment_terminate_evidence, name="terminate_evidence"),
    path("<int:pk>/terminate/evidence/<int:evidence_pk>/", views.termination_evidence_download,
         name="terminate_evidence_download"),
    path("<int:pk>/terminate/statement/", views.appointment_terminate_statement, name="terminate_statement"),
    path("<int:pk>/withdrawal-notice/", views.appointment_withdrawal_notice, name="withdrawal_notice"),
    path("<int:pk>/withdrawal/", views.appointment_withdrawal, name="withdrawal"),
    path("<int:pk>/certificate.pdf", views.certificate_pdf, name="certificate_pdf"),
    path("<int:pk>/dispatch-notice.pdf", views.dispatch_notice_pdf, name="dispatch_notice_pdf"),
    path("<int:pk>/contract.pdf", views.contract_pdf, name="contract_pdf"),
]
