"""Issue 16 item 2: the three separated administrators reach only their own pages and APIs (deny by default),
not the institution's records — not even lists that would come back empty."""
import re

import pytest

pytestmark = pytest.mark.django_db

INSTITUTION_PAGES = ["/appointments/", "/pool/", "/duties/", "/suggestions/manage/", "/finance/", "/statistics/",
                     "/geography/units/", "/info/manage/", "/cities/"]
INSTITUTION_APIS = ["/api/v1/appointments", "/api/v1/duty-records", "/api/v1/opinions", "/api/v1/removals"]


@pytest.mark.parametrize("persona", ["system_admin", "security_admin", "audit_admin"])
def test_an_administrator_gets_403_outside_its_own_pages(request, persona, login, bearer, client):
    admin = request.getfixturevalue(persona)
    browser = login(admin)
    for path in INSTITUTION_PAGES:
        answer = browser.get(path)
        assert answer.status_code == 403, (persona, path, answer.status_code)
    for path in INSTITUTION_APIS:
        by_session = browser.get(path)
        by_token = client.get(path, **bearer(admin))
        assert (by_session.status_code, by_token.status_code) == (403, 403), (persona, path)
        assert "三权分立" in by_token.json()["detail"]
    home = browser.get("/")
    assert home.status_code == 200
    # every link of the administrator's home page leads somewhere it may go
    for href in sorted(set(re.findall(r'href="(/[^"#?]*)', home.content.decode()))):
        if href.startswith(("/static/", "/accounts/logout")):
            continue
        assert browser.get(href).status_code in (200, 302), (persona, href)


def test_the_administrators_own_pages_stay_open_and_other_roles_are_unaffected(system_admin, security_admin, city_admin,
                                                                               login, bearer, client):
    assert login(system_admin).get("/accounts/manage/").status_code == 200
    assert login(security_admin).get("/accounts/manage/").status_code == 200
    assert login(city_admin).get("/appointments/").status_code == 200
    assert client.get("/api/v1/appointments", **bearer(city_admin)).status_code == 200
