"""``beffroi pause`` at the server's command line: pause, list, resume, in the organization's
language; and the posts' states in ``beffroi stats``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.cli import main
from beffroi.organizations.models import Organization
from beffroi.publishing import services
from beffroi.publishing.models import Pause, PauseWindow, Post
from beffroi.publishing.services import VariantInput


@pytest.fixture
def run(desk: Any) -> Any:
    # The messages are in the organization's language: English here, so that the sentences
    # read below do not depend on the catalogues.
    Organization.objects.filter(pk=desk.org.pk).update(language="en")
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(main, ["pause", "--org", desk.org.slug, *args])

    return invoke


def test_the_command_is_the_publishing_apps() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "  pause " in result.output
    assert main.commands["pause"].callback.__module__ == "beffroi.publishing.cli"


def test_pause_the_organization_then_list_then_resume(run: Any, desk: Any) -> None:
    result = run("--reason", "Inondation [crise]")
    assert result.exit_code == 0, result.output
    paused = Pause.objects.get()
    assert paused.reason == "Inondation [crise]"
    assert paused.scope == Pause.Scope.ORGANIZATION and paused.ended_at is None
    assert paused.confirmed_at is not None and paused.in_flight == 0
    assert f"Publishing paused for the whole organization (pause {paused.pk})." in result.output
    assert f"Confirmed at {timezone.localtime(paused.confirmed_at):%Y-%m-%d %H:%M:%S}" in (
        result.output
    )
    assert "No post was still being sent at that time." in result.output
    event = AuditEvent.objects.get(action="publishing.pause")
    assert event.channel == "cli" and event.organization == desk.org

    listed = run("--list")
    assert listed.exit_code == 0, listed.output
    assert f"Pause {paused.pk}: the whole organization, since" in listed.output
    assert "Inondation [crise]" in listed.output  # as written, brackets included

    resumed = run("--resume", "--id", str(paused.pk))
    assert resumed.exit_code == 0, resumed.output
    assert "1 pause ended." in resumed.output
    paused.refresh_from_db()
    assert paused.ended_at is not None
    assert AuditEvent.objects.filter(action="publishing.resume", channel="cli").exists()
    assert "Publishing is not paused." in run("--list").output

    again = run("--resume", "--id", str(paused.pk))
    assert again.exit_code == 1
    assert "This pause has already ended." in again.output


def test_pause_an_account_or_a_label_and_resume_all_in_json(run: Any, desk: Any) -> None:
    services.save_post(
        desk.actor(desk.author), desk.org, [VariantInput(desk.page, text="x")], labels=["électoral"]
    )
    result = run("--reason", "Compte piraté", "--account", "Page", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)["paused"]
    assert answer["scope"] == "source" and answer["account"] == "Page"
    assert answer["confirmed_at"] is not None and answer["in_flight"] == 0
    result = run("--reason", "Réserve", "--label", "électoral")
    assert result.exit_code == 0, result.output
    assert "Publishing paused for the posts labelled électoral" in result.output

    PauseWindow.objects.create(
        organization=desk.org,
        name="Réserve électorale",
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=30),
    )
    listed = json.loads(run("--list", "--json").output)
    assert {p["scope"] for p in listed["pauses"]} == {"source", "label"}
    assert [w["name"] for w in listed["windows"]] == ["Réserve électorale"]

    result = run("--resume", "--all", "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["resumed"]) == 2
    assert not Pause.objects.filter(ended_at__isnull=True).exists()
    assert "nothing to end" in run("--resume", "--all").output


def test_what_the_command_refuses(run: Any, desk: Any) -> None:
    missing = run()
    assert missing.exit_code == 2
    assert "Give --reason" in missing.output
    assert run("--reason", "   ").exit_code == 2
    unknown = run("--reason", "Crise", "--account", "Nope")
    assert unknown.exit_code == 1
    assert "No account named Nope. Known: Mastodon, Page." in unknown.output
    assert "No label named Nope" in run("--reason", "Crise", "--label", "Nope").output
    assert run("--reason", "Crise", "--account", "Page", "--label", "x").exit_code == 2
    assert run("--resume").exit_code == 2
    assert run("--resume", "--all", "--id", "1").exit_code == 2
    absent = run("--resume", "--id", "999")
    assert absent.exit_code == 1 and "no pause 999" in absent.output
    assert not Pause.objects.exists()

    result = CliRunner().invoke(main, ["pause", "--org", "nope", "--reason", "Crise"])
    assert result.exit_code == 1
    assert "No organization 'nope'" in result.output


def test_another_organizations_pause_is_not_resumed(run: Any, desk: Any, other_org: Any) -> None:
    from beffroi.audit.services import Actor

    theirs = services.pause(Actor.system(), other_org, "Leur crise")
    result = run("--resume", "--id", str(theirs.pk))
    assert result.exit_code == 1
    theirs.refresh_from_db()
    assert theirs.ended_at is None


def test_stats_count_the_posts_by_state(desk: Any) -> None:
    services.save_post(desk.actor(desk.author), desk.org, [VariantInput(desk.page, text="x")])
    result = CliRunner().invoke(main, ["stats", "--org", desk.org.slug, "--json"])
    assert result.exit_code == 0, result.output
    by_state = json.loads(result.output)["posts_by_state"]
    assert by_state == {state: int(state == "draft") for state in Post.State.values}
