"""New conversations judged once: a request or complaint for the institution or not, and for
which service; a request goes to its service's team unless a person gave it one. The models
here are small ones trained by the test (the shipped ones, trained on the project's corpus,
are measured by `beffroi eval requests`, docs/requests.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from beffroi.analysis.requests.detect import RequestExample, train_detector
from beffroi.analysis.requests.routing import train_service_model
from beffroi.audit.services import Actor
from beffroi.conversations import requests, services
from beffroi.conversations.models import Conversation, Team

pytestmark = pytest.mark.django_db

EXAMPLES = [
    RequestExample("Le lampadaire de ma rue est éteint depuis une semaine", True, "eclairage"),
    RequestExample("Un lampadaire ne marche plus avenue de la Gare", True, "eclairage"),
    RequestExample("Eclairage public en panne rue Pasteur", True, "eclairage"),
    RequestExample("Les poubelles ne sont pas ramassées depuis mardi", True, "proprete"),
    RequestExample("Quand passe la collecte des encombrants ?", True, "proprete"),
    RequestExample("Le bac jaune n'a pas été vidé", True, "proprete"),
    RequestExample("Un énorme nid de poule devant l'école", True, "voirie"),
    RequestExample("La chaussée est défoncée rue des Lilas", True, "voirie"),
    RequestExample("Trottoir abîmé et dangereux place de l'église", True, "voirie"),
    RequestExample("Bravo pour le feu d'artifice, super soirée", False),
    RequestExample("Quelle belle ville, j'adore me balader ici", False),
    RequestExample("Merci pour ce beau concert hier soir", False),
    RequestExample("Magnifique photo du pont au coucher du soleil", False),
    RequestExample("Joyeux Noël à toutes et à tous", False),
]


@pytest.fixture
def small_models(monkeypatch: pytest.MonkeyPatch) -> None:
    detector = train_detector(base=EXAMPLES, use_embedding=False)
    router = train_service_model(base=EXAMPLES, use_embedding=False)
    monkeypatch.setattr(requests, "default_detector", lambda: detector)
    monkeypatch.setattr(requests, "default_service_model", lambda: router)


def test_requests_are_judged_once_and_routed_to_their_team(
    org: Any, thread: Any, member: Callable[..., Any], small_models: None
) -> None:
    services.ensure_default_teams(org)
    post = thread.post()
    thread.say("alice", "Le lampadaire devant chez moi est éteint depuis lundi", post)
    thread.say("bruno", "Les poubelles de la rue ne sont pas ramassées", post)
    thread.say("chloe", "Magnifique soirée, bravo et merci", post)
    thread.say("david", "Nid de poule énorme rue des Lilas", post)
    services.attach_new_items(org)
    # A person already gave David's conversation to another team: it stays there.
    david = Conversation.objects.get(organization=org, author__handle="david")
    urbanisme = Team.objects.get(organization=org, slug="urbanisme")
    services.set_team(Actor(member("claire"), "ui"), david, urbanisme)
    assert requests.judge_new_conversations(org) == 4
    judged = {c.author.handle: c for c in Conversation.objects.filter(organization=org)}
    assert judged["alice"].is_request and judged["alice"].request_service == "eclairage"
    assert judged["alice"].team.slug == "eclairage" and judged["alice"].routed_by == "model"
    assert judged["bruno"].team.slug == "proprete"
    assert judged["chloe"].is_request is False and judged["chloe"].team is None
    assert judged["david"].request_service == "voirie" and judged["david"].team == urbanisme
    assert 0.0 <= judged["chloe"].request_score < 0.5 < judged["alice"].request_score <= 1.0
    event = judged["alice"].events.get(kind="team")
    assert event.actor is None and event.after["routed_by"] == "model"
    assert requests.judge_new_conversations(org) == 0  # once


def test_the_attach_job_asks_for_the_judgement(
    org: Any, thread: Any, small_models: None, django_capture_on_commit_callbacks: Any
) -> None:
    from beffroi.conversations.tasks import attach_task, judge_requests_task
    from beffroi.jobs.models import Job

    thread.say("alice", "Le lampadaire est éteint", thread.post())
    with django_capture_on_commit_callbacks(execute=True):
        attach_task(org.pk)
    job = Job.objects.get(name="conversations.judge_requests")
    assert judge_requests_task(**job.payload) == {"judged": 1}


def test_a_person_says_whether_it_is_a_request(
    org: Any, thread: Any, member: Callable[..., Any], small_models: None
) -> None:
    from beffroi.audit.models import AuditEvent
    from tests.conversations.test_desk_pages import _login

    thread.say("alice", "Magnifique soirée, bravo et merci", thread.post())
    services.attach_new_items(org)
    requests.judge_new_conversations(org)
    conversation = Conversation.objects.get(organization=org)
    assert conversation.is_request is False
    claire = member("claire")
    client = _login(claire)
    url = f"/o/{org.slug}/conversations/{conversation.pk}/"
    assert "Not a request" in client.get(url).content.decode()
    assert client.post(url + "request/", {"is_request": "yes"}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.is_request and conversation.request_checked_by == claire
    assert AuditEvent.objects.filter(action="conversation.request", actor=claire).exists()
    html = client.get(url).content.decode()
    assert "Request or complaint" in html and "said by claire" in html


def test_the_organizations_rules_route_first_and_shadow_rules_are_only_counted(
    org: Any, thread: Any, member: Callable[..., Any], small_models: None
) -> None:
    from beffroi.conversations.models import RoutingRule

    services.ensure_default_teams(org)
    admin = Actor(member("chef", "admin"), "ui")
    teams = {team.slug: team for team in Team.objects.filter(organization=org)}

    def rule(name: str, team: str, **values: Any) -> RoutingRule:
        found = services.save_routing_rule(
            admin,
            org,
            RoutingRule(),
            {"name": name, "team": teams[team], "then": "stop", **values},
        )
        return found

    with pytest.raises(services.DeskError, match="cannot be read"):
        rule("Cassée", "voirie", query='"non fermé', shadow=False)
    with pytest.raises(services.DeskError, match="needs a condition"):
        rule("Vide", "voirie", shadow=False)
    school = rule("Écoles", "ecoles", keywords=["école", "cantine"], shadow=False)
    trial = rule("Essai police", "police-municipale", keywords=["lampadaire"], shadow=True)
    post = thread.post()
    thread.say("alice", "Le lampadaire devant l'école est éteint", post)
    thread.say("bruno", "Le lampadaire de ma rue ne marche plus", post)
    services.attach_new_items(org)
    requests.judge_new_conversations(org)
    alice = Conversation.objects.get(organization=org, author__handle="alice")
    bruno = Conversation.objects.get(organization=org, author__handle="bruno")
    assert alice.team == teams["ecoles"] and alice.routed_by == "rule:Écoles"
    # The shadow rule matched both, applied to none: the model routed Bruno's.
    assert bruno.team == teams["eclairage"] and bruno.routed_by == "model"
    school.refresh_from_db()
    trial.refresh_from_db()
    assert (school.hits, school.shadow_hits) == (1, 0)
    # Alice's was decided by the school rule before it (a live stop): only Bruno's counts.
    assert (trial.hits, trial.shadow_hits) == (0, 1)
    event = bruno.events.get(kind="team")
    assert event.after["shadow"] == "police-municipale"  # what the shadow rule would do


def test_the_models_learn_from_the_corrections_in_shadow_first(
    org: Any,
    thread: Any,
    member: Callable[..., Any],
    small_models: None,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.conversations import learning
    from beffroi.conversations.models import RequestModel
    from beffroi.conversations.tasks import retrain_requests_task
    from beffroi.jobs.models import Job
    from tests.conversations.test_desk_pages import _login

    # The corpus is stood in for by the small examples (training on it takes a minute).
    monkeypatch.setattr(
        learning,
        "train_detector",
        lambda found: train_detector(found, base=EXAMPLES, use_embedding=False),
    )
    monkeypatch.setattr(
        learning,
        "train_service_model",
        lambda found: train_service_model(found, base=EXAMPLES, use_embedding=False),
    )
    services.ensure_default_teams(org)
    admin = member("chef", "admin")
    client = _login(admin)
    url = f"/o/{org.slug}/conversations/request-models/"
    refused = client.post(url + "learn/", follow=True).content.decode()
    assert "Nothing to learn from yet" in refused
    post = thread.post()
    thread.say("alice", "Magnifique soirée, bravo et merci", post)
    thread.say("bruno", "La cantine de l'école sert des repas froids", post)
    services.attach_new_items(org)
    requests.judge_new_conversations(org)
    alice = Conversation.objects.get(organization=org, author__handle="alice")
    bruno = Conversation.objects.get(organization=org, author__handle="bruno")
    actor = Actor(admin, "ui")
    services.mark_request(actor, alice, True)
    services.set_team(actor, bruno, Team.objects.get(organization=org, slug="ecoles"))
    assert learning.corrections(org) == (
        [RequestExample("Magnifique soirée, bravo et merci", True)],
        [RequestExample("La cantine de l'école sert des repas froids", True, "ecoles")],
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url + "learn/").status_code == 302
    assert AuditEvent.objects.filter(action="request_model.retrain", actor=admin).exists()
    job = Job.objects.get(name="conversations.retrain_requests")
    assert retrain_requests_task(**job.payload)["routing"] == 1
    shadow = RequestModel.objects.get(organization=org)
    assert shadow.state == "shadow" and shadow.detection_corrections == 1
    # New conversations: judged by the shipped models, and by the new one in shadow.
    thread.say("chloe", "Le lampadaire est éteint rue des Lilas", post)
    services.attach_new_items(org)
    requests.judge_new_conversations(org)
    shadow.refresh_from_db()
    assert shadow.shadow_judged == 1 and 0 <= shadow.shadow_agreed <= 1
    assert "Put in force" in client.get(url).content.decode()
    assert client.post(url + f"{shadow.pk}/activate/").status_code == 302
    shadow.refresh_from_db()
    assert shadow.state == "active"
    assert AuditEvent.objects.filter(action="request_model.activate", actor=admin).exists()
    thread.say("david", "Les poubelles ne sont pas ramassées", post)
    services.attach_new_items(org)
    requests.judge_new_conversations(org)
    assert Conversation.objects.get(author__handle="david").team.slug == "proprete"
