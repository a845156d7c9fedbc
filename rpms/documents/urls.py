"""Public verification of issued documents, mounted at /verify/."""
from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("", views.verify_form, name="verify"),
    path("<str:code>/", views.verify_detail, name="verify_detail"),
]
