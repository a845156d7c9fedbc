"""Property-based fuzz of the whole OpenAPI document (issue #13 item 2): every operation of
/api/v1/openapi.json, anonymously and with the token of each role, answers without a server error.

schemathesis (its Python API) reads the document the application serves and generates requests from it;
they are sent to the Django application in-process (WSGI, inside the test's transaction: nothing a request
writes outlives the test) and checked with `not_a_server_error`. Two phases per operation and role:
- coverage: schemathesis's deterministic cases — each parameter missing, of the wrong type, null or out of
  its format, bodies without required properties or with unexpected ones, undeclared HTTP methods, a
  multipart Content-Type without a boundary and an unsupported one. Each role sends its share of them
  (every caller gets every operation; the undeclared methods, which no role changes, go out once);
- fuzzing: EXAMPLES cases drawn by Hypothesis (valid and invalid ones), derandomized — the same cases on
  every run — with path ids drawn often from the ids of real records, so requests reach real rows.
The world is the demo data (rpms.portal seed_demo with a few planners). FUZZ_EXAMPLES and FUZZ_COVERAGE=all
(every coverage case for every role) make a longer local run."""
from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.meta import CoverageScenario, coverage_scenario
from schemathesis.generation.overrides import Override

from tests.conftest import DEMO_ROLES

pytestmark = pytest.mark.django_db

SCHEMA_PATH = "/api/v1/openapi.json"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
ALL_COVERAGE = os.environ.get("FUZZ_COVERAGE") == "all"
ROLES = list(DEMO_ROLES)
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


class _DjangoApp:
    """Django's WSGI handler; remembers the traceback of every exception a request raised."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()
        self.errors: list[str] = []

    def __call__(self, environ, start_response):
        return self.handler(environ, start_response)

    def record(self, sender, request=None, **kwargs):
        self.errors.append("".join(traceback.format_exception(*sys.exc_info())))


@pytest.fixture
def app():
    """The application, with the per-request connection housekeeping switched off while the test runs (as
    Django's test client does), so that every request shares the test's transaction."""
    from django.core.signals import got_request_exception, request_finished, request_started
    from django.db import close_old_connections

    django_app = _DjangoApp()
    quiet = [logging.getLogger(name) for name in ("django.request", "django.security", "rpms.api", "rpms.requests")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)  # 4xx warnings by the thousand; 5xx are collected and reported
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    got_request_exception.connect(django_app.record)
    try:
        yield django_app
    finally:
        got_request_exception.disconnect(django_app.record)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        for logger, level in zip(quiet, levels):
            logger.setLevel(level)


_DOCUMENT: dict = {}


def _schema(app, ids):
    """The document the application serves, fetched from it by the first role of this process and read again
    from its text by the others (the document depends on no role or record; generating it took seconds)."""
    if "text" not in _DOCUMENT:
        schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, app)
        _DOCUMENT["text"] = json.dumps(schema.raw_schema)
    else:
        schema = schemathesis.openapi.from_dict(json.loads(_DOCUMENT["text"]))
        schema.app, schema.location = app, SCHEMA_PATH
    real_ids = st.sampled_from(ids)
    codes = st.sampled_from(["beijing", "pingdingshan", "110108", "110105", "410402"])

    @schema.hook
    def before_generate_path_parameters(context, strategy):
        def towards_real(params):
            if not isinstance(params, dict):
                return st.just(params)
            return st.fixed_dictionaries({
                name: (real_ids if isinstance(value, int) and not isinstance(value, bool)
                       else codes if isinstance(value, str) else st.just(value))
                for name, value in params.items()
            })

        return st.one_of(strategy, strategy.flatmap(towards_real))

    return schema


class _Run:
    def __init__(self, app, headers):
        self.app, self.headers = app, headers
        self.failures: list[str] = []
        self.requests = 0

    def send(self, case) -> bool:
        """Send `case`; False (and the failure recorded) when it got a server error."""
        self.app.errors.clear()
        self.requests += 1
        response = case.call(headers=self.headers)
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=self.headers)
        except FailureGroup as exc:
            self.failures.append(f"{case.operation.label}: {exc}\n" + "\n".join(self.app.errors[-1:]))
            return False
        return True

    def coverage(self, operation, role_index: int):
        generator = CoverageGenerator(
            operation=operation, generation_modes=MODES, auth_storage=None, override=Override(),
            generation_config=operation.schema.config.generation_for(operation=operation, phase="coverage"),
            feedback=FeedbackSources(),
        )
        for index, case in enumerate(generator):
            scenario = coverage_scenario(case)
            if scenario == CoverageScenario.UNSPECIFIED_HTTP_METHOD:
                mine = role_index == 0  # no role changes how an undeclared method is refused
            else:
                mine = ALL_COVERAGE or scenario in (CoverageScenario.MALFORMED_CONTENT_TYPE,
                                                    CoverageScenario.DEFAULT_POSITIVE_TEST) \
                    or index % len(ROLES) == role_index
            if mine and not self.send(case):
                return

    def fuzz(self, operation):
        strategy = st.one_of([operation.as_strategy(generation_mode=mode) for mode in MODES])
        failed = []

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case):
            if not failed and not self.send(case):
                failed.append(case)

        run()


@pytest.mark.parametrize("role", ROLES)
def test_no_operation_answers_a_server_error(role, demo_world, demo_token, app):
    username = DEMO_ROLES[role]
    run = _Run(app, {"Authorization": f"Bearer {demo_token(username)}"} if username else {})
    schema = _schema(app, demo_world)
    started, operations = time.monotonic(), 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        run.coverage(operation, ROLES.index(role))
        run.fuzz(operation)
    print(f"\n{role}: {operations} operations, {run.requests} requests in {time.monotonic() - started:.1f}s")
    assert operations > 250
    assert not run.failures, f"{len(run.failures)} operations answered 5xx:\n\n" + "\n\n".join(run.failures)
