from django.urls import path

from . import views

app_name = "publicinfo"

urlpatterns = [
    path("", views.index, name="index"),
    # 公示公告 (B22)
    path("announcements/", views.announcement_list, name="announcement_list"),
    path("announcements/<int:pk>/", views.announcement_detail, name="announcement_detail"),
    path("announcements/<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment_download"),
    # 政策文件解读 (B22)
    path("policies/", views.policy_index, name="policy_index"),
    path("policies/<slug:city_code>/", views.policy_document, name="policy_document"),
    path("policies/<slug:city_code>/interpretations/<int:pk>/", views.interpretation_detail, name="interpretation_detail"),
    # 一张图 (B4)
    path("map/", views.coverage_map, name="map"),
    path("map/<str:district_code>/", views.map_district, name="map_district"),
    path("map/<str:district_code>/units/", views.map_district_units, name="map_district_units"),
    # 开放数据
    path("open-data/", views.open_data, name="open_data"),
    # management
    path("manage/", views.manage, name="manage"),
    path("manage/announcements.xlsx", views.manage_export, name="manage_export"),
    path("manage/announcements/new/", views.announcement_new, name="announcement_new"),
    path("manage/announcements/<int:pk>/", views.manage_announcement, name="manage_announcement"),
    path("manage/announcements/<int:pk>/publish/", views.announcement_publish, name="announcement_publish"),
    path("manage/announcements/<int:pk>/withdraw/", views.announcement_withdraw, name="announcement_withdraw"),
    path("manage/announcements/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("manage/announcements/<int:pk>/attachments/<int:attachment_pk>/", views.manage_attachment_download,
         name="manage_attachment_download"),
    path("manage/announcements/<int:pk>/attachments/<int:attachment_pk>/remove/", views.attachment_remove,
         name="attachment_remove"),
    path("manage/interpretations/new/", views.interpretation_new, name="interpretation_new"),
    path("manage/interpretations/<int:pk>/", views.manage_interpretation, name="manage_interpretation"),
    path("manage/interpretations/<int:pk>/publish/", views.interpretation_publish, name="interpretation_publish"),
    path("manage/interpretations/<int:pk>/withdraw/", views.interpretation_withdraw, name="interpretation_withdraw"),
]
