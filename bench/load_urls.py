"""The product's URLs plus /bench/minimal/: a Django view that answers the bytes of the find-my-planner page
(captured by bench/load.py into the file named by RPMS_BENCH_MINIMAL_BODY) without doing anything else —
what the framework, the middleware and the server cost, for comparison with the real page."""
import os
from functools import lru_cache

from django.http import HttpResponse
from django.urls import include, path


@lru_cache(maxsize=1)
def _body() -> bytes:
    with open(os.environ["RPMS_BENCH_MINIMAL_BODY"], "rb") as file:
        return file.read()


def minimal(request):
    return HttpResponse(_body(), content_type="text/html; charset=utf-8")


urlpatterns = [
    path("bench/minimal/", minimal),
    path("", include("config.urls")),
]
