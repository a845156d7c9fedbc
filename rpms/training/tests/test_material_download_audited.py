"""Course materials are private files: a viewing is audited once (issue #16 item 4, GB/T 22239-2019 8.1.4.3) — the
first request (no Range, or from byte 0) — and the seeks that follow write nothing."""
from rpms.core.audit import ACTION_DOWNLOAD, SENSITIVE_READ_ARTICLE
from rpms.core.models import ActionLog
from rpms.training import services


def test_a_viewing_of_a_course_video_is_audited_once(login, online_course, bj_planner):
    video = online_course.materials.get(kind="video")
    services.course_enrol(actor=bj_planner.user, course=online_course)
    client = login(bj_planner.user)
    url = f"/training/materials/{video.pk}/file"
    downloads = ActionLog.objects.filter(action=ACTION_DOWNLOAD)

    assert client.get(url, HTTP_RANGE="bytes=0-").status_code == 206
    assert downloads.count() == 1
    row = downloads.get()
    assert row.actor_id == bj_planner.user.pk and row.article == SENSITIVE_READ_ARTICLE
    assert (row.object_type, row.object_id) == ("training.coursematerial", str(video.pk))

    assert client.get(url, HTTP_RANGE="bytes=100-199").status_code == 206  # a seek
    assert client.head(url).status_code == 200
    assert downloads.count() == 1
    assert client.get(url).status_code == 200  # a whole download
    assert downloads.count() == 2
