from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.public_list, name="public_list"),
    path("<int:pk>/", views.public_detail, name="public_detail"),
    path("<int:pk>/photos/<int:photo_id>/", views.photo, name="photo"),
    path("new/", views.case_new, name="new"),
    path("manage/", views.manage_list, name="manage_list"),
    path("manage/<int:pk>/", views.manage_detail, name="manage_detail"),
    path("manage/<int:pk>/review/", views.review, name="review"),
    path("manage/<int:pk>/unpublish/", views.unpublish, name="unpublish"),
    path("manage/<int:pk>/revise/", views.revise, name="revise"),
]
