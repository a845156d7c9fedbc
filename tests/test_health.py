"""GET /api/v1/health: liveness plus a real round trip to the database."""
from unittest import mock

import pytest
from django.db.utils import OperationalError


@pytest.mark.django_db
def test_health_reports_status_and_database_ok(client):
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_health_reports_an_unreachable_database_as_503(client):
    with mock.patch("config.api.connection.cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/api/v1/health")

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "error"}
