"""Issue #17 item 4: a refused application review is shown again with every score and text typed."""
import re
from html import unescape

import pytest
from django.test import Client

from rpms.recruitment import services
from rpms.recruitment.models import ApplicationStatus

from .factories import applicant, beijing_data, open_call

pytestmark = pytest.mark.django_db


def _value_of(page, name):
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page).group(0)
    found = re.search(r'\bvalue="([^"]*)"', tag)
    return found.group(1) if found else None


def test_a_rejection_without_a_reason_keeps_the_scores(beijing, city_admin):
    call = open_call(city_admin, beijing)
    application = services.application_submit(actor=applicant("kk", beijing), call=call, data=beijing_data())
    client = Client()
    client.force_login(city_admin)
    typed = {"score_background": "61", "score_title": "72", "score_experience": "83", "score_local_familiarity": "94"}
    response = client.post(f"/recruitment/applications/{application.pk}/review/",
                           {"decision": "reject", "reason": "", **typed})
    page = unescape(response.content.decode())
    assert response.status_code == 400 and 'class="alert error"' in page
    for name, value in typed.items():
        assert _value_of(page, name) == value, name
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
