"""The command line, run in-process against the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from beffroi import extensions
from beffroi.audit.models import AuditEvent
from beffroi.cli import main
from beffroi.items.models import Item

GOOD_CSV = """id,created_at,author,text,kind,parent_id,thread_id,language
p1,2026-10-01T09:00:00+02:00,mairie,Les travaux rue Victor Hugo commencent lundi.,post,,,fr
c1,2026-10-01T10:00:00+02:00,jean_d,Combien de temps vont durer les travaux ?,comment,p1,p1,fr
c2,2026-10-01T10:05:00+02:00,amina,How long will the roadworks last?,comment,p1,p1,en
"""

BAD_CSV = """id,created_at,author,text,likes
a1,2026-10-01T09:00:00Z,alice,Bonjour,3
a2,pas une date,bob,Salut,1
a3,2026-10-01T09:05:00Z,carol,,2
a4,2026-10-01T09:06:00Z,dan,Coucou,-4
a5,2026-10-01T09:07:00Z,eve,Bonsoir,0
"""


@pytest.fixture
def run(db: Any) -> Any:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Any:
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_import_good_file_then_again(run: Any, org: Any, tmp_path: Path) -> None:
    path = write(tmp_path, "items.csv", GOOD_CSV)
    first = run("import", str(path), "--org", org.slug, "--source", "Export Facebook")
    assert first.exit_code == 0, first.output
    assert "Imported 3 new item(s)" in first.output
    assert Item.objects.filter(organization=org).count() == 3
    reply = Item.objects.get(platform_id="c1")
    assert reply.parent is not None and reply.parent.platform_id == "p1"
    second = run("import", str(path), "--org", org.slug, "--source", "Export Facebook")
    assert second.exit_code == 0
    assert "Nothing new: all 3 rows were already imported." in second.output
    assert Item.objects.filter(organization=org).count() == 3
    assert AuditEvent.objects.filter(action="source.import", channel="cli").count() == 2


def test_import_with_bad_rows_imports_nothing_and_lists_them(
    run: Any, org: Any, tmp_path: Path
) -> None:
    path = write(tmp_path, "bad.csv", BAD_CSV)
    result = run("import", str(path), "--org", org.slug, "--source", "S")
    assert result.exit_code == 2
    assert "3 invalid row(s); nothing was imported." in result.output
    for line in ("line 3:", "line 4:", "line 5:"):
        assert line in result.output
    assert "created_at" in result.output and "text" in result.output and "likes" in result.output
    assert Item.objects.count() == 0


def test_import_skip_invalid_writes_rejected_rows(run: Any, org: Any, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", BAD_CSV)
    rejected = tmp_path / "rejected.csv"
    result = run(
        "import",
        str(path),
        "--org",
        org.slug,
        "--source",
        "S",
        "--skip-invalid",
        "--rejected",
        str(rejected),
    )
    assert result.exit_code == 0, result.output
    assert "Imported 2 new item(s)" in result.output
    assert Item.objects.count() == 2
    text = rejected.read_text()
    assert "pas une date" in text and text.count("\n") >= 4


def test_import_unknown_org_is_a_clear_error(run: Any, tmp_path: Path) -> None:
    path = write(tmp_path, "items.csv", GOOD_CSV)
    result = CliRunner().invoke(main, ["import", str(path), "--org", "nope", "--source", "S"])
    assert result.exit_code == 1
    assert "No organization 'nope'" in result.output


REAL = Path(__file__).parent / "fixtures" / "real"


def test_import_platform_gives_a_4cat_csv_its_platform(run: Any, org: Any) -> None:
    path = REAL / "4cat" / "tiktok.csv"
    args = ("import", str(path), "--org", org.slug, "--source", "4CAT")
    unknown = run(*args, "--platform", "myspace")
    assert unknown.exit_code == 2
    assert "'myspace' is not a platform the import knows" in unknown.output
    result = run(*args, "--platform", "tiktok")
    assert result.exit_code == 0, result.output
    assert set(Item.objects.values_list("platform", flat=True)) == {"tiktok"}
    silent = Item.objects.get(platform_id="7445000000000000002")
    assert silent.text == "" and silent.media[0]["kind"] == "video"


def test_a_refused_file_leaves_no_new_source(run: Any, org: Any, tmp_path: Path) -> None:
    from beffroi.sources.models import Source

    bad = run(
        "import", str(write(tmp_path, "bad.csv", BAD_CSV)), "--org", org.slug, "--source", "N"
    )
    empty = write(tmp_path, "empty.csv", "text,created_at,author\n")
    refused = run("import", str(empty), "--org", org.slug, "--source", "N")
    assert bad.exit_code == refused.exit_code == 2
    assert not Source.objects.filter(organization=org, name="N").exists()


def test_import_warns_of_items_another_source_holds(run: Any, org: Any, tmp_path: Path) -> None:
    path = write(tmp_path, "items.csv", GOOD_CSV)
    run("import", str(path), "--org", org.slug, "--source", "Mai")
    again = run("import", str(path), "--org", org.slug, "--source", "Mai bis")
    assert again.exit_code == 0, again.output
    assert "Imported 3 new item(s)" in again.output  # not refused: a person may want both
    assert "Warning: 3 item(s) of this file are also in another source (Mai)" in again.output
    same = run("import", str(path), "--org", org.slug, "--source", "Mai")
    assert "Nothing new" in same.output
    assert "Warning: 3 item(s) of this file are also in another source (Mai bis)" in same.output
    assert Item.objects.filter(organization=org).count() == 6


def test_stats_json(run: Any, org: Any, tmp_path: Path) -> None:
    run("import", str(write(tmp_path, "items.csv", GOOD_CSV)), "--org", org.slug, "--source", "S")
    result = run("stats", "--org", org.slug, "--json")
    data = json.loads(result.output)
    assert data["items"] == 3
    assert data["sources"] == 1
    assert data["authors"] == 3
    assert data["decisions"] == 0 and data["cases"] == 0
    assert data["items_by_language"] == {"en": 1, "fr": 2}


def test_token_create_prints_a_working_key_once(run: Any, make_user: Any) -> None:
    from beffroi.accounts.models import ApiToken

    make_user("alice")
    result = run("token", "create", "--user", "alice", "--name", "script")
    key = result.output.strip()
    assert key.startswith("bfr_")
    token = ApiToken.authenticate(key)
    assert token is not None and token.user.username == "alice"
    assert key not in json.dumps(list(AuditEvent.objects.values("before", "after")))
    # The same act is the same event, whichever face asked (the web writes api_token.create).
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.channel == "cli" and event.object_id == str(token.pk)


def test_org_and_user_create(run: Any) -> None:
    from beffroi.organizations.models import Membership

    assert run("org", "create", "prefecture-test", "Préfecture de Test").exit_code == 0
    result = run("user", "create", "paul", "--org", "prefecture-test", "--role", "moderator")
    assert result.exit_code == 0 and "Temporary password:" in result.output
    assert Membership.objects.get(user__username="paul").role == "moderator"
    assert AuditEvent.objects.filter(action="membership.create", channel="cli").exists()
    # A new account is recorded as one, as on the web.
    created = AuditEvent.objects.get(action="user.create", channel="cli")
    assert created.organization is not None and created.organization.slug == "prefecture-test"


def register_sample_commands(cli: click.Group) -> None:
    """A plugin's ``beffroi.commands`` hook: one new command, and one that takes a built-in's
    name."""

    @cli.command("hello")
    def hello() -> None:
        click.echo("hello from a plugin")

    @cli.command("serve")
    def serve() -> None:
        click.echo("not the server")


def test_plugins_register_commands_but_never_replace_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib.metadata import EntryPoint

    import beffroi.cli as cli_module

    plugin = EntryPoint("sample", "tests.test_cli:register_sample_commands", extensions.COMMANDS)
    monkeypatch.setattr(
        cli_module,
        "entry_points",
        lambda group: [plugin] if group == extensions.COMMANDS else [],
    )
    server = main.commands["serve"]
    group = click.Group(commands={"serve": server})
    cli_module.register_commands(group)
    # The apps' groups come through the same hook as the plugin's.
    assert set(group.commands) == {
        "charter",
        "eval",
        "models",
        "moderation",
        "veille",
        "pause",
        "org",
        "user",
        "token",
        "hello",
        "serve",
    }
    assert group.commands["serve"] is server
    assert "'beffroi serve' is already a command" in " ".join(capsys.readouterr().err.split())
    assert CliRunner().invoke(group, ["hello"]).output == "hello from a plugin\n"


def test_the_apps_command_groups_are_registered() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    groups = ("charter", "eval", "moderation", "veille", "org", "user", "token")
    for name in (*groups, "import", "serve"):
        assert name in main.commands and f"  {name} " in result.output
    # Each group is its app's, registered through the same hook as a plugin's.
    assert main.commands["moderation"].callback.__module__ == "beffroi.moderation.cli"
    assert main.commands["veille"].callback.__module__ == "beffroi.veille.cli"
    assert main.commands["org"].callback.__module__ == "beffroi.organizations.cli"
    assert main.commands["user"].callback.__module__ == "beffroi.organizations.cli"
    assert main.commands["token"].callback.__module__ == "beffroi.accounts.cli"


def test_veille_scan_of_an_unknown_org_names_the_known_ones(run: Any, org: Any) -> None:
    result = CliRunner().invoke(main, ["veille", "scan", "--org", "nope"])
    assert result.exit_code == 1
    assert f"No organization 'nope'. Known: {org.slug}." in result.output


def test_statements_leave_out_an_invalid_one_and_say_why_on_stderr(org: Any, source: Any) -> None:
    """The export checks each statement: one the Transparency Database would refuse is not
    written, and standard error names its decision and the reason; the export is audited."""
    from django.utils import timezone

    from beffroi.items.models import Author
    from beffroi.moderation.models import Decision

    author = Author.objects.create(organization=org, platform="file", platform_id="a1", handle="a1")
    category = {
        "slug": "hate",
        "name": "Hate speech",
        "clause": "Comments inciting hatred against a group are removed.",
        "legal_reference": "Loi du 29 juillet 1881, art. 24",
        "dsa_category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "dsa_specifications": ["KEYWORD_HATE_SPEECH"],
    }
    decisions = []
    for n, snapshot in enumerate(
        # A charter category mapped to a value the database does not know.
        (category, {**category, "dsa_category": "STATEMENT_CATEGORY_WRONG"})
    ):
        item = Item.objects.create(
            organization=org,
            source=source,
            platform="file",
            platform_id=str(n),
            kind="comment",
            author=author,
            text=f"comment {n}",
            language="fr",
            created_at=timezone.now(),
        )
        decisions.append(
            Decision.objects.create(
                organization=org,
                item=item,
                action="hide",
                charter_snapshot=snapshot,
                platform_status="done",
            )
        )
    valid, wrong = decisions
    # A hide the platform refused: no statement, and the export says so.
    Decision.objects.create(
        organization=org,
        item=item,
        action="hide",
        charter_snapshot=category,
        platform_status="failed",
    )
    runner = CliRunner()  # result.stdout and result.stderr apart
    for fmt in ("json", "csv"):
        result = runner.invoke(
            main, ["moderation", "statements", "--org", org.slug, "--format", fmt]
        )
        assert result.exit_code == 0, result.output
        if fmt == "json":
            bodies = json.loads(result.stdout)
            assert [b["puid"] for b in bodies] == [f"beffroi-{org.slug}-{valid.pk}"]
        else:
            lines = result.stdout.strip().splitlines()
            assert len(lines) == 2 and f"beffroi-{org.slug}-{valid.pk}" in lines[1]
        assert "STATEMENT_CATEGORY_WRONG" not in result.stdout
        said = " ".join(result.stderr.split())
        assert "1 statement of reasons was left out of the export" in said
        assert f"Decision #{wrong.pk} (beffroi-{org.slug}-{wrong.pk}):" in said
        assert "STATEMENT_CATEGORY_WRONG" in said
        assert "1 restriction(s) without a statement of reasons: not in effect" in said
    exports = AuditEvent.objects.filter(action="moderation.statements.exported").order_by("id")
    audited = [(e.channel, dict(e.after or {})) for e in exports]
    assert [
        (channel, after["format"], after["left_out_decisions"]) for channel, after in audited
    ] == [
        ("cli", "json", [wrong.pk]),
        ("cli", "csv", [wrong.pk]),
    ]
