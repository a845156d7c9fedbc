"""Background jobs (rpms.core.jobs): after commit, inline in development and tests, onto RQ with retries in
production, never a 500 when the queue is down; tracked jobs with progress, visible to their actor only."""
import shutil
import socket
import subprocess
import time

import pytest
from django.db import transaction

from rpms.accounts.models import Role, User
from rpms.core import jobs
from rpms.core.models import BackgroundJob, JobStatus
from rpms.core.tests import jobs_fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_calls():
    jobs_fixtures.CALLS.clear()
    yield
    jobs_fixtures.CALLS.clear()


class FakeQueue:
    def __init__(self):
        self.calls = []

    def enqueue_call(self, **kwargs):
        self.calls.append(kwargs)
        return type("QueuedJob", (), {"id": f"rq-{len(self.calls)}"})()


@pytest.fixture
def queued(settings, monkeypatch):
    """Production mode with the queue replaced: what would have gone to Redis."""
    import django_rq

    settings.RPMS_JOBS_INLINE = False
    queue = FakeQueue()
    monkeypatch.setattr(django_rq, "get_queue", lambda name="default", **kw: queue)
    return queue


def test_an_inline_job_runs_only_once_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            jobs.enqueue(jobs_fixtures.record, 1, two=2)
            assert jobs_fixtures.CALLS == []  # not inside the caller's transaction
    assert jobs_fixtures.CALLS == [((1,), {"two": 2})]


def test_a_rolled_back_act_runs_no_job(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ZeroDivisionError):
            with transaction.atomic():
                jobs.enqueue("rpms.core.tests.jobs_fixtures.record", 1)
                1 / 0
    assert callbacks == [] and jobs_fixtures.CALLS == []


def test_an_inline_job_that_fails_is_logged_not_raised(django_capture_on_commit_callbacks, caplog):
    with django_capture_on_commit_callbacks(execute=True):
        jobs.enqueue(jobs_fixtures.explode)
    assert "inline job rpms.core.tests.jobs_fixtures.explode failed" in caplog.text


def test_jobs_must_be_importable_module_level_functions():
    with pytest.raises(ValueError):
        jobs.enqueue(lambda: None)
    with pytest.raises(ImportError):
        jobs.enqueue("rpms.core.tests.jobs_fixtures.no_such_function")


def test_production_queues_the_job_after_commit_with_retries_and_back_off(queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            jobs.enqueue(jobs_fixtures.record, 7, retry_intervals=[2, 4, 8], flag=True)
            assert queued.calls == []
    assert jobs_fixtures.CALLS == []  # not run in the web process
    (call,) = queued.calls
    assert call["func"] == "rpms.core.tests.jobs_fixtures.record"
    assert call["args"] == (7,) and call["kwargs"] == {"flag": True}
    assert call["retry"].max == 3 and call["retry"].intervals == [2, 4, 8]


def test_when_the_queue_is_down_nothing_raises_and_a_tracked_job_says_so(settings, monkeypatch, city_admin,
                                                                       django_capture_on_commit_callbacks):
    import django_rq

    settings.RPMS_JOBS_INLINE = False

    def down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(django_rq, "get_queue", down)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.job_create(kind="test.count", label="测试任务", actor=city_admin)
        jobs.enqueue(jobs_fixtures.counted, 3, track=job)
        jobs.enqueue(jobs_fixtures.record, 1)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message == jobs.QUEUE_DOWN_MESSAGE and "任务队列暂时不可用" in job.message


def test_a_tracked_job_reports_progress_and_its_result(city_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.job_create(kind="test.count", label="测试任务", actor=city_admin, city_code="beijing", total=0)
        assert job.status == JobStatus.QUEUED
        jobs.enqueue(jobs_fixtures.counted, 3, track=job)
    job.refresh_from_db()
    assert [c[:2] for c in jobs_fixtures.CALLS] == [("step", 1), ("step", 2), ("step", 3)]
    assert job.status == JobStatus.DONE and job.percent == 100
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert job.message == "已处理 3 项。" and job.result == {"url": "/somewhere/"}
    assert job.attempts == 1 and job.started_at and job.finished_at


def test_a_refusal_fails_the_job_with_its_chinese_message(city_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.job_create(kind="test.refused", label="测试任务", actor=city_admin)
        jobs.enqueue(jobs_fixtures.refused, track=job)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.message == "该名册当前不能导入。"


def test_a_crash_goes_back_to_the_queue_while_retries_remain_then_fails(city_admin, monkeypatch):
    job = jobs.job_create(kind="test.crash", label="测试任务", actor=city_admin)
    path = "rpms.core.tests.jobs_fixtures.crashing"
    monkeypatch.setattr(jobs, "final_attempt", lambda: False)
    with pytest.raises(RuntimeError):  # raised for RQ, which schedules the retry
        jobs.run_tracked(job.pk, path, [], {})
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and "稍后将自动重试" in job.message and job.attempts == 1

    monkeypatch.setattr(jobs, "final_attempt", lambda: True)
    with pytest.raises(RuntimeError):
        jobs.run_tracked(job.pk, path, [], {})
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 2 and "已停止" in job.message


def test_final_attempt_follows_the_rq_job(monkeypatch):
    import rq

    assert jobs.final_attempt() is True  # inline: no RQ job, no retry
    monkeypatch.setattr(rq, "get_current_job", lambda: type("J", (), {"retries_left": 2})())
    assert jobs.final_attempt() is False
    monkeypatch.setattr(rq, "get_current_job", lambda: type("J", (), {"retries_left": None})())
    assert jobs.final_attempt() is True


# --- GET /api/v1/jobs/{id} -------------------------------------------------------------------------------


@pytest.fixture
def job_of(city_admin):
    job = jobs.job_create(kind="registry.roster_import", label="名册导入《名册.xlsx》", actor=city_admin,
                          city_code="beijing", total=10)
    jobs.job_progress(job, done=4)
    return job


def test_the_actor_reads_the_job_status_through_the_api(client, city_admin, job_of, bearer):
    response = client.get(f"/api/v1/jobs/{job_of.pk}", **bearer(city_admin))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "queued" and body["status_label"] == "排队中"
    assert body["progress"] == {"done": 4, "total": 10, "percent": 40}
    assert body["label"] == "名册导入《名册.xlsx》" and body["finished"] is False


def test_staff_of_the_jobs_city_see_it_others_get_404(client, job_of, bearer, beijing, pingdingshan):
    colleague = User.objects.create_user("bj_admin2", password="Pw-for-tests-123", role=Role.CITY_ADMIN, city=beijing)
    other_city = User.objects.create_user("pds_admin", password="Pw-for-tests-123", role=Role.CITY_ADMIN,
                                          city=pingdingshan)
    planner = User.objects.create_user("planner", password="Pw-for-tests-123", role=Role.PLANNER, city=beijing)
    assert client.get(f"/api/v1/jobs/{job_of.pk}", **bearer(colleague)).status_code == 200
    for outsider in (other_city, planner):
        response = client.get(f"/api/v1/jobs/{job_of.pk}", **bearer(outsider))
        assert response.status_code == 404
        assert response.json()["detail"] == "记录不存在或您无权查看。"
    assert client.get(f"/api/v1/jobs/{job_of.pk + 1000}", **bearer(colleague)).status_code == 404
    assert client.get(f"/api/v1/jobs/{job_of.pk}").status_code == 401


# --- the real queue (skipped where Debian's redis-server is not installed) ------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_job_on_real_redis_is_run_by_a_worker_and_retried(redis_url, settings,
                                                            django_capture_on_commit_callbacks):
    import django_rq
    from django_rq.queues import get_redis_connection
    from rq import SimpleWorker

    settings.RPMS_JOBS_INLINE = False
    settings.RQ_QUEUES = {"default": {"URL": redis_url}}
    with django_capture_on_commit_callbacks(execute=True):
        jobs.enqueue(jobs_fixtures.record, "queued", retry_intervals=[0])
        jobs.enqueue(jobs_fixtures.explode, retry_intervals=[0, 0])
    queue = django_rq.get_queue("default")
    assert queue.count == 2 and jobs_fixtures.CALLS == []
    SimpleWorker([queue], connection=get_redis_connection(settings.RQ_QUEUES["default"])).work(burst=True)
    assert jobs_fixtures.CALLS == [(("queued",), {})]
    failed = queue.failed_job_registry
    assert failed.count == 1
    (job_id,) = failed.get_job_ids()
    assert queue.fetch_job(job_id).retries_left in (0, None)  # tried 1 + 2 times, then given up
