"""The API documentation's title and introduction follow the reader's language."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from beffroi.api.urls import DESCRIPTION


@pytest.mark.django_db
def test_the_openapi_title_and_description_follow_the_reader_language() -> None:
    seen = {}
    for language in ("en", "fr"):
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.cookies["django_language"] = language
        info = client.get("/api/v1/openapi.json").json()["info"]
        docs = client.get("/api/v1/docs").content.decode()
        with translation.override(language):
            title, description = str(translation.gettext("Beffroi API")), str(DESCRIPTION)
        assert info["title"] == title
        assert info["description"] == description
        assert f"<title>{title}</title>" in docs
        seen[language] = info
    assert seen["en"]["title"] == "Beffroi API"
    assert seen["en"]["description"].startswith("The JSON API of Beffroi")


def test_the_description_is_lazy(settings: Any) -> None:
    # Built when the module is imported; read for each request, in its language.
    with translation.override("en"):
        english = str(DESCRIPTION)
    assert english.startswith("The JSON API of Beffroi, for integrations.")
