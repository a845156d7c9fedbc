from django.urls import path

from . import views

app_name = "cities"
urlpatterns = [
    path("", views.city_list_view, name="list"),
    path("<slug:code>/", views.policy_detail_view, name="policy_detail"),
    path("<slug:code>/edit/", views.policy_edit_view, name="policy_edit"),
]
