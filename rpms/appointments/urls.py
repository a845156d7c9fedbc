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
    path("chiefs/", views.district_chiefs, name="chiefs"),
    path("proposals/", views.proposal_list, name="proposals"),
    path("proposals/new/", views.proposal_new, name="proposal_new"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/approve/", views.proposal_approve, name="proposal_approve"),
    path("proposals/<int:pk>/return/", views.proposal_return, name="proposal_return"),
    path("proposals/<int:pk>/withdraw/", views.proposal_withdraw, name="proposal_withdraw"),
    path("public/", views.public_list, name="public_list"),
    path("units/<int:pk>/", views.public_unit, name="public_unit"),
    path("<int:pk>/", views.appointment_detail, name="detail"),
    path("<int:pk>/file/", views.appointment_file, name="file"),
    path("<int:pk>/file/return/", views.signed_contract_return, name="file_return"),
    path("<int:pk>/signed-contract/", views.signed_contract_submit, name="signed_contract_submit"),
    path("<int:pk>/signed-contract/<int:sid>/", views.signed_contract_download, name="signed_contract_download"),
    path("<int:pk>/renew/", views.appointment_renew, name="renew"),
    path("<int:pk>/terminate/", views.appointment_terminate, name="terminate"),
    path("<int:pk>/terminate/consent/", views.appointment_terminate_consent, name="terminate_consent"),
    path("<int:pk>/withdrawal/", views.appointment_withdrawal, name="withdrawal"),
    path("<int:pk>/certificate.pdf", views.certificate_pdf, name="certificate_pdf"),
    path("<int:pk>/dispatch-notice.pdf", views.dispatch_notice_pdf, name="dispatch_notice_pdf"),
    path("<int:pk>/contract.pdf", views.contract_pdf, name="contract_pdf"),
]
