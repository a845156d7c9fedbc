"""Issue #12 item 7: the public case list cites the chosen city's own article (never Beijing's for
Pingdingshan)."""
import re

import pytest

pytestmark = pytest.mark.django_db

BEIJING_ARTICLE = re.compile(r"(?<![A-Za-z0-9#])B(?:1\d|2[0-6]|[1-9])(?![0-9A-Za-z])")  # not inside a word (a verification code)


def test_the_case_list_of_pingdingshan_cites_no_beijing_article(anon, beijing, pingdingshan):
    page = anon.get("/cases/", {"city": "pingdingshan"}).content.decode()
    assert pingdingshan.policy.articles["case"] in page
    assert BEIJING_ARTICLE.findall(page) == []
    both = anon.get("/cases/").content.decode()
    assert beijing.policy.articles["case"].split("、")[0] in both and pingdingshan.policy.articles["case"] in both
