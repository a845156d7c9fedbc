from django.urls import path

from . import views

app_name = "opinions"

urlpatterns = [
    path("", views.opinion_list, name="list"),
    path("inbox/", views.inbox, name="inbox"),
    path("new/", views.opinion_new, name="new"),
    path("<int:pk>/", views.opinion_detail, name="detail"),
    path("<int:pk>/edit/", views.opinion_edit, name="edit"),
    path("<int:pk>/declaration/", views.opinion_declare, name="declare"),
    path("<int:pk>/issue/", views.opinion_issue, name="issue"),
    path("<int:pk>/supersede/", views.opinion_supersede, name="supersede"),
    path("<int:pk>/discard/", views.opinion_discard, name="discard"),
    path("<int:pk>/response/", views.opinion_response, name="response"),
    path("<int:pk>/pdf/", views.opinion_pdf, name="pdf"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment_download"),
    path("<int:pk>/attachments/<int:attachment_pk>/remove/", views.attachment_remove, name="attachment_remove"),
]
