from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError


@pytest.mark.django_db
def test_healthz_answers_ok_without_login(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_says_when_the_database_does_not_answer(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from beffroi.core import views

    def broken() -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(views.connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
