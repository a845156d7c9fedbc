"""The roster import runs as a background job with progress (issue #13): the API's run and, where jobs are
queued (production), the page's 开始导入; the page follows the job, and falls back to its steps when the
job could not run."""
import json

import pytest

from rpms.core import jobs
from rpms.core.models import BackgroundJob, JobStatus
from rpms.registry.models import Planner, PlannerSource, RosterImport, RosterImportStatus

from .test_roster_import import logged_in, person, roster_file, text, upload

pytestmark = pytest.mark.django_db


class FakeQueue:
    def __init__(self):
        self.calls = []

    def enqueue_call(self, **kwargs):
        self.calls.append(kwargs)
        return type("QueuedJob", (), {"id": f"rq-{len(self.calls)}"})()

    def work(self):
        """What `manage.py rqworker` would do with the queued calls."""
        for call in self.calls:
            call["func"](*call["args"])


@pytest.fixture
def queued(settings, monkeypatch):
    import django_rq

    settings.RPMS_JOBS_INLINE = False
    queue = FakeQueue()
    monkeypatch.setattr(django_rq, "get_queue", lambda name="default", **kw: queue)
    return queue


def _run(client, headers, pk, only_valid=False):
    return client.post(f"/api/v1/pool/imports/{pk}/run", data=json.dumps({"only_valid": only_valid}),
                       content_type="application/json", **headers)


def test_the_api_run_is_a_job_with_progress_inline_in_development(anon, city_admin, bearer):
    headers = bearer(city_admin)
    report = anon.post("/api/v1/cities/beijing/pool/imports", {"file": roster_file([person("甲"), person("乙")])},
                       **headers).json()
    run = _run(anon, headers, report["id"])
    assert run.status_code == 200
    body = run.json()
    assert body["status"] == "done" and body["imported_rows"] == 2
    job = body["job"]
    assert job["status"] == "done" and job["kind"] == "registry.roster_import"
    assert job["progress"] == {"done": 2, "total": 2, "percent": 100}
    assert job["message"] == "导入完成：2 人已入库。" and job["label"] == "名册导入《名册.xlsx》"
    assert job["result"]["url"] == f"/pool/import/{report['id']}/" and job["result"]["imported_rows"] == 2
    assert anon.get(f"/api/v1/jobs/{job['id']}", **headers).json()["status"] == "done"


def test_in_production_the_api_answers_at_once_and_the_worker_imports(anon, city_admin, pds_admin, bearer, queued):
    headers = bearer(city_admin)
    report = anon.post("/api/v1/cities/beijing/pool/imports", {"file": roster_file([person("丙"), person("丁")])},
                       **headers).json()
    body = _run(anon, headers, report["id"]).json()
    assert body["status"] == "importing" and body["imported_rows"] == 0  # the request did not import
    assert body["job"]["status"] == "queued" and body["job"]["progress"]["total"] == 2
    assert Planner.objects.filter(source=PlannerSource.IMPORT).count() == 0
    # Asking again while the job waits queues nothing new.
    assert _run(anon, headers, report["id"]).json()["job"]["id"] == body["job"]["id"]
    assert len(queued.calls) == 1

    queued.work()
    job = anon.get(f"/api/v1/jobs/{body['job']['id']}", **headers).json()
    assert job["status"] == "done" and job["progress"]["percent"] == 100 and job["attempts"] == 1
    assert anon.get(f"/api/v1/pool/imports/{report['id']}", **headers).json()["status"] == "done"
    assert Planner.objects.filter(source=PlannerSource.IMPORT).count() == 2
    assert anon.get(f"/api/v1/jobs/{body['job']['id']}", **bearer(pds_admin)).status_code == 404


def test_in_production_the_page_starts_a_job_and_follows_it(city_admin, queued):
    client = logged_in(city_admin)
    upload(client, [person("戊"), person("己"), person("庚")])
    imp = RosterImport.objects.get()
    assert client.post(f"/pool/import/{imp.pk}/start/", {"mode": "all"}).status_code == 302
    job = BackgroundJob.objects.get()
    assert (job.status, job.subject_type, job.subject_id, job.city_code) == (
        JobStatus.QUEUED, "registry.rosterimport", str(imp.pk), "beijing")
    page = text(client.get(f"/pool/import/{imp.pk}/"))
    assert f'data-job-url="/api/v1/jobs/{job.pk}"' in page and "后台导入中" in page

    queued.work()
    imp.refresh_from_db()
    assert imp.status == RosterImportStatus.DONE and imp.imported_rows == 3
    page = text(client.get(f"/pool/import/{imp.pk}/"))
    assert "导入完成：3 人已入库" in page and "data-job-url" not in page


def test_when_the_queue_is_down_the_page_says_so_and_its_steps_still_import(city_admin, settings, monkeypatch):
    import django_rq

    def down(*args, **kwargs):
        raise ConnectionError("Connection refused")

    settings.RPMS_JOBS_INLINE = False
    monkeypatch.setattr(django_rq, "get_queue", down)
    client = logged_in(city_admin)
    upload(client, [person("辛")])
    imp = RosterImport.objects.get()
    assert client.post(f"/pool/import/{imp.pk}/start/", {"mode": "all"}).status_code == 302
    page = text(client.get(f"/pool/import/{imp.pk}/"))
    assert "后台导入未能完成：任务队列暂时不可用" in page and "继续导入" in page and "data-job-url" not in page
    assert client.post(f"/pool/import/{imp.pk}/step/").status_code == 302
    imp.refresh_from_db()
    assert imp.status == RosterImportStatus.DONE and imp.imported_rows == 1


def test_the_job_imports_what_the_page_left(city_admin):
    client = logged_in(city_admin)
    upload(client, [person("壬")])
    imp = RosterImport.objects.get()
    client.post(f"/pool/import/{imp.pk}/start/", {"mode": "all"})  # inline mode: the page's steps would run it
    from rpms.registry.roster_import import roster_import_enqueue

    job = roster_import_enqueue(actor=city_admin, roster_import=imp)
    job.refresh_from_db()
    imp.refresh_from_db()
    assert job.status == JobStatus.DONE and imp.status == RosterImportStatus.DONE
    assert jobs.job_latest_for(imp) == job
