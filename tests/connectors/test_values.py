"""The values every connector reads: days, API addresses, platform times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from beffroi.connectors.base import ConfigurationError
from beffroi.connectors.values import api_base_url, iso_z, parse_time, positive_int, text_links

DEFAULT = "https://api.example.com"


def test_api_base_url_defaults_trims_and_keeps_http_for_loopback_only() -> None:
    assert api_base_url("", "P", DEFAULT) == DEFAULT
    assert api_base_url("https://api.x.com/", "P", DEFAULT) == "https://api.x.com"
    assert api_base_url("http://127.0.0.1:8080", "P", DEFAULT) == "http://127.0.0.1:8080"
    with pytest.raises(ConfigurationError, match="clear text"):
        api_base_url("http://example.org", "P", DEFAULT)
    with pytest.raises(ConfigurationError, match="API's address"):
        api_base_url("https://api.x.com/2/users", "P", DEFAULT)
    with pytest.raises(ConfigurationError, match="API's address"):
        api_base_url("ftp://api.x.com", "P", DEFAULT)
    assert api_base_url("https://h.example/v1/", "P", DEFAULT, keep_path=True) == (
        "https://h.example/v1"
    )


def test_positive_int() -> None:
    assert positive_int({}, "days", 7, "P") == 7
    assert positive_int({"days": " 3 "}, "days", 7, "P") == 3
    with pytest.raises(ConfigurationError, match="whole number"):
        positive_int({"days": "trois"}, "days", 7, "P")
    with pytest.raises(ConfigurationError, match="at least 1"):
        positive_int({"days": "0"}, "days", 7, "P")


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:00:00.000Z",
        "2024-05-01T10:00:00+0000",
        "2024-05-01T12:00:00+02:00",
        "2024-05-01T10:00:00",
        datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_parse_time_reads_every_platform_format_as_utc(value: object) -> None:
    assert parse_time(value) == datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_parse_time_refuses_what_is_not_a_time_and_iso_z_writes_it_back() -> None:
    assert parse_time("hier") is None and parse_time(None) is None and parse_time(12) is None
    moment = datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert iso_z(moment) == "2024-05-01T10:00:00Z"
    assert iso_z(moment, milliseconds=True) == "2024-05-01T10:00:00.123Z"


def test_text_links_leave_out_sentence_punctuation_and_unopened_brackets() -> None:
    text = (
        "Voir https://a.fr/x. (source : https://b.fr/y) https://fr.wikipedia.org/wiki/Lyon_(France), "
        "encore https://a.fr/x ! Et https://c.fr/?q=1&b=2… ou http:// rien."
    )
    assert text_links(text) == (
        "https://a.fr/x",
        "https://b.fr/y",
        "https://fr.wikipedia.org/wiki/Lyon_(France)",
        "https://c.fr/?q=1&b=2",
    )
