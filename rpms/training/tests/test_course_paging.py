"""The course list pages (issue #15: every list pages, with the same queries on every page)."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rpms.training import services, views


def test_the_course_list_pages_with_the_same_queries_on_every_page(login, beijing, city_admin, monkeypatch):
    monkeypatch.setattr(views, "COURSE_PAGE_SIZE", 2)
    for n in range(5):
        services.course_create(actor=city_admin, city=beijing, title=f"分页课程{n}", hours="1")
    client = login(city_admin)
    counts = []
    for url in ("/training/courses/", "/training/courses/?page=2"):
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        counts.append(len(queries.captured_queries))  # read now: the next request resets the log
    page1 = client.get("/training/courses/").content.decode()
    page2 = client.get("/training/courses/?page=2").content.decode()
    last = client.get("/training/courses/?page=99").content.decode()  # past the end: the last page
    assert page1.count("分页课程") == 2 and "第 1 页，共 3 页（5 条）" in page1 and 'rel="next"' in page1
    assert page2.count("分页课程") == 2 and 'rel="prev"' in page2
    assert last.count("分页课程") == 1 and "第 3 页，共 3 页" in last and 'rel="next"' not in last
    assert counts[0] == counts[1] > 0
