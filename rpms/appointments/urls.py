from django.urls import path

from . import views

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
