from django.urls import path

from . import views

app_name = "workdays"
urlpatterns = [
    path("", views.year_list, name="year_list"),
    path("enter/", views.year_enter, name="year_enter"),
    path("calculator/", views.calculator, name="calculator"),
    path("<int:year>/", views.year_detail, name="year_detail"),
    path("<int:year>/delete/", views.year_delete, name="year_delete"),
]
