"""Residents' personal data on public pages (issue #12 item 1, PIPL art. 28–29): typed identity numbers,
phone numbers and e-mail addresses come out masked on the public pages, API and open data, while staff
see the text as stored; photos lose their EXIF; a city may review suggestions before they are published
(policy `suggestions_premoderated`)."""
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rpms.cities.models import PolicyProfile
from rpms.core.models import ActionLog
from rpms.suggestions import services
from rpms.suggestions.models import Suggestion

from .conftest import PDS_STREET, submit, unit_of

pytestmark = pytest.mark.django_db

ID_NUMBER = "410402199001011234"
MOBILE = "13812345678"
LANDLINE = "0375-2345678"
EMAIL = "resident.wang@example.com"
TYPED = f"路灯坏了，请联系我：手机 {MOBILE}，座机 {LANDLINE}，邮箱 {EMAIL}，身份证 {ID_NUMBER}。"


def _leaks(body: str) -> list[str]:
    return [v for v in (ID_NUMBER, MOBILE, LANDLINE, "2345678", EMAIL) if v in body]


def test_public_pages_api_and_tracking_show_typed_personal_data_masked_staff_see_it_whole(clock, bj_unit, bj_planner, login):
    suggestion = submit(bj_unit, content=TYPED)
    services.suggestion_reply(actor=bj_planner.user, suggestion=suggestion, text=f"已收到，将致电 {MOBILE} 联系您。")
    anon = Client()
    pages = {
        "unit page": anon.get(f"/suggestions/units/{bj_unit.pk}/").content.decode(),
        "tracking page": anon.get("/suggestions/track/", {"code": suggestion.tracking_code}).content.decode(),
        "unit API": json.dumps(anon.get(f"/api/v1/public/units/{bj_unit.pk}/suggestions").json(), ensure_ascii=False),
        "tracking API": json.dumps(anon.get(f"/api/v1/public/suggestions/{suggestion.tracking_code}").json(), ensure_ascii=False),
        "home": anon.get("/", {"q": "万寿路"}).content.decode(),
    }
    for name, body in pages.items():
        assert _leaks(body) == [], name
    assert "138****5678" in pages["unit page"] and "r***@example.com" in pages["unit page"]
    assert "410***********1234" in pages["tracking API"] and "0375-***5678" in pages["unit API"]
    assert "138****5678" in pages["tracking page"]
    staff = login(bj_planner.user).get(f"/suggestions/manage/{suggestion.pk}/").content.decode()
    assert ID_NUMBER in staff and MOBILE in staff and EMAIL in staff
    suggestion.refresh_from_db()
    assert suggestion.content == TYPED  # the stored text keeps what was typed


def test_a_resident_photo_loses_its_gps_exif_on_upload(clock, bj_unit, settings):
    from PIL import ExifTags, Image

    image = Image.new("RGB", (50, 40), (10, 200, 10))
    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (39.0, 54.0, 27.0)
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", (116.0, 23.0, 27.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    photo = SimpleUploadedFile("IMG_0001.jpg", buffer.getvalue(), content_type="image/jpeg")
    suggestion = submit(bj_unit, photos=[photo])
    stored = settings.PRIVATE_MEDIA_ROOT / suggestion.photos.get().path
    with Image.open(stored) as kept:
        assert not kept.getexif().get_ifd(ExifTags.IFD.GPSInfo) and len(kept.getexif()) == 0
    assert b"Exif" not in stored.read_bytes()


# --- review before publication (policy suggestions_premoderated) ----------------------------------------


@pytest.fixture
def pds_reviewed(pingdingshan):
    PolicyProfile.objects.filter(city=pingdingshan).update(suggestions_premoderated=True)
    return unit_of(pingdingshan, PDS_STREET)


def _public(unit) -> str:
    anon = Client()
    return (anon.get(f"/suggestions/units/{unit.pk}/").content.decode()
            + json.dumps(anon.get(f"/api/v1/public/units/{unit.pk}/suggestions").json(), ensure_ascii=False)
            + json.dumps(anon.get("/api/v1/public/suggestion-stats.json", {"city": unit.city.code}).json(), ensure_ascii=False))


def test_shipped_policies_publish_at_once(beijing, pingdingshan):
    assert beijing.policy.suggestions_premoderated is False and pingdingshan.policy.suggestions_premoderated is False


def test_beijing_publishes_on_arrival(clock, bj_unit, bj_planner):
    suggestion = submit(bj_unit, content="东门路灯坏了，晚上很暗。")
    assert suggestion.released_at is not None and not suggestion.premoderated
    assert "东门路灯坏了" in _public(bj_unit)


def test_a_reviewed_city_delivers_at_once_and_publishes_only_after_release(clock, pds_reviewed, pds_planner, pds_district, login):
    suggestion = submit(pds_reviewed, content="曙光街公园的健身器材损坏了。")
    assert suggestion.premoderated and suggestion.released_at is None
    assert list(suggestion.recipients.values_list("planner_id", flat=True)) == [pds_planner.pk]  # the planner has it now
    inbox = login(pds_planner.user).get("/suggestions/manage/").content.decode()
    assert suggestion.tracking_code in inbox and "待审核放行" in inbox
    public = _public(pds_reviewed)
    assert "健身器材" not in public and suggestion.tracking_code not in public
    assert '"received": 1' not in public  # the open data counts released suggestions only
    track = Client().get("/suggestions/track/", {"code": suggestion.tracking_code}).content.decode()
    assert "待审核" in track and "健身器材" not in track
    tracked = Client().get(f"/api/v1/public/suggestions/{suggestion.tracking_code}").json()
    assert tracked["awaiting_release"] is True and "content" not in tracked
    services.suggestion_reply(actor=pds_planner.user, suggestion=suggestion, text="已报修。")
    assert "已报修" not in _public(pds_reviewed)

    page = login(pds_district).get(f"/suggestions/manage/{suggestion.pk}/").content.decode()
    assert "审核放行，公开显示" in page
    # issue #16 item 5: the confirmation is asked by static/js/confirm.js, not by an inline onsubmit handler
    assert 'data-confirm="确认审核放行？' in page and "onsubmit" not in page and "/static/js/confirm.js" in page
    response = login(pds_district).post(f"/suggestions/manage/{suggestion.pk}/release/")
    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.released_at is not None and suggestion.released_by == pds_district
    row = ActionLog.objects.get(action="suggestions.suggestion_release")
    assert row.article == pds_reviewed.city.policy.articles["suggestion_moderation"] and row.article.startswith("P")
    public = _public(pds_reviewed)
    assert "健身器材" in public and "已报修" in public
    assert "待审核" not in Client().get("/suggestions/track/", {"code": suggestion.tracking_code}).content.decode()


def test_only_the_district_or_the_city_releases_and_only_once(clock, pds_reviewed, pds_planner, pds_district, pds_admin,
                                                               bearer, district_haidian):
    from rpms.core.errors import Conflict, Forbidden

    suggestion = submit(pds_reviewed)
    with pytest.raises(Forbidden):
        services.suggestion_release(actor=pds_planner.user, suggestion=suggestion)
    with pytest.raises(Forbidden):
        services.suggestion_release(actor=district_haidian, suggestion=suggestion)  # another city's district
    response = Client().post(f"/api/v1/suggestions/{suggestion.pk}/release", **bearer(pds_planner.user))
    assert response.status_code == 403 and response.json()["detail"]
    response = Client().post(f"/api/v1/suggestions/{suggestion.pk}/release", **bearer(pds_admin))
    assert response.status_code == 200 and response.json()["awaiting_release"] is False
    response = Client().post(f"/api/v1/suggestions/{suggestion.pk}/release", **bearer(pds_district))
    assert response.status_code == 409 and "已于" in response.json()["detail"]
    with pytest.raises(Conflict):
        services.suggestion_release(actor=pds_admin, suggestion=Suggestion.objects.get(pk=suggestion.pk))
