"""The charter through the JSON API and the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from django.test import Client

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.charter import services
from beffroi.charter.models import CharterVersion
from beffroi.charter.yaml_io import parse_charter
from beffroi.cli import main

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(org: Any, make_user: Any) -> Any:
    from beffroi.accounts.models import ApiToken

    _token, key = ApiToken.issue(make_user("elu", org=org, role="viewer"), "test")
    client = Client()

    def get(path: str) -> Any:
        return client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {key}"})

    return get


def test_the_live_charter(call: Any, org: Any) -> None:
    assert call(f"/orgs/{org.slug}/charter").status_code == 404
    services.ensure_default_charter(org)
    body = call(f"/orgs/{org.slug}/charter").json()
    assert (body["number"], body["status"], body["own_rules"]) == (1, "live", 0)
    terrorism = next(c for c in body["categories"] if c["slug"] == "terrorism")
    assert terrorism["hide_at"] == 0.9
    assert terrorism["dsa_category"] == "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    assert terrorism["dsa_category_specification"] == ["KEYWORD_TERRORIST_CONTENT"]


def test_versions_and_yaml_export(call: Any, org: Any) -> None:
    services.ensure_default_charter(org)
    services.create_draft(Actor.system(), org)
    versions = call(f"/orgs/{org.slug}/charter/versions").json()
    assert [(v["number"], v["status"]) for v in versions] == [(2, "draft"), (1, "live")]
    response = call(f"/orgs/{org.slug}/charter/versions/2/yaml")
    assert response["Content-Type"].startswith("application/yaml")
    assert len(parse_charter(response.content).categories) == 11
    assert call(f"/orgs/{org.slug}/charter/versions/7/yaml").status_code == 404


def test_cli_export_and_import(org: Any, tmp_path: Path) -> None:
    runner = CliRunner()
    refused = runner.invoke(main, ["charter", "export", "--org", org.slug])
    assert refused.exit_code != 0 and "No version is live" in refused.output
    services.ensure_default_charter(org)
    exported = runner.invoke(main, ["charter", "export", "--org", org.slug], catch_exceptions=False)
    assert exported.exit_code == 0
    assert "format: beffroi-charter/1" in exported.output
    target = tmp_path / "charte.yaml"
    written = runner.invoke(
        main, ["charter", "export", "--org", org.slug, "--version", "1", "--output", str(target)]
    )
    assert written.exit_code == 0
    text = target.read_text(encoding="utf-8").replace("hide_at: 0.95", "hide_at: 0.97", 1)
    target.write_text(text, encoding="utf-8")
    imported = runner.invoke(
        main, ["charter", "import", str(target), "--org", org.slug, "--publish"],
        catch_exceptions=False,
    )  # fmt: skip
    assert imported.exit_code == 0, imported.output
    assert "Imported as draft version 2" in imported.output
    live = services.live_version(org)
    assert live is not None and live.number == 2
    assert AuditEvent.objects.filter(action="charter.import", channel="cli").exists()
    target.write_text("format: beffroi-charter/1\ncategories: 3\n", encoding="utf-8")
    bad = runner.invoke(main, ["charter", "import", str(target), "--org", org.slug])
    assert bad.exit_code != 0
    assert "categories: a list of at least one category is required." in bad.output
    assert CharterVersion.objects.filter(organization=org).count() == 2
    missing = runner.invoke(main, ["charter", "export", "--org", org.slug, "--version", "9"])
    assert "No version 9. Known: 2, 1." in missing.output
