"""Who approves: workflows and their steps set from the page, checked by their service (the
approvers are members who may approve, "N of them" fits the group, one default workflow and
one per account), not deleted while posts wait under them; the publishing settings."""

from __future__ import annotations

from typing import Any

import pytest

from beffroi.audit.models import AuditEvent
from beffroi.publishing import services, workflows
from beffroi.publishing.models import ApprovalStep, ApprovalWorkflow, Post
from beffroi.publishing.services import PublishingError, VariantInput

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_pages(client: Any) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def url(desk: Any, suffix: str = "") -> str:
    return f"/o/{desk.org.slug}/publishing/{suffix}"


def form_data(name: str, steps: list[dict[str, Any]], **workflow: Any) -> dict[str, Any]:
    """What the workflow page posts: the workflow's fields and its step formset."""
    data: dict[str, Any] = {
        "name": name,
        "source": "",
        "for_posts": "on",
        "for_counter_speech": "on",
        **workflow,
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for index, step in enumerate(steps):
        data.update(
            {
                f"steps-{index}-name": step["name"],
                f"steps-{index}-rule": step.get("rule", "any"),
                f"steps-{index}-required": str(step.get("required", 1)),
                f"steps-{index}-approvers": [str(user.pk) for user in step.get("approvers", [])],
                f"steps-{index}-ORDER": str(step.get("order", index + 1)),
            }
        )
        if step.get("allow_external"):
            data[f"steps-{index}-allow_external"] = "on"
    return data


def test_a_workflow_with_two_steps_is_saved_and_read_back(desk: Any, verified_client: Any) -> None:
    client = verified_client(desk.admin)
    assert client.get(url(desk, "workflows/new/")).status_code == 200
    response = client.post(
        url(desk, "workflows/new/"),
        form_data(
            "Page de la ville",
            [
                # Posted in the other order: the order field decides.
                {"name": "Élu", "approvers": [desk.admin], "allow_external": True, "order": 2},
                {
                    "name": "Cabinet",
                    "rule": "n_of",
                    "required": 2,
                    "approvers": desk.cabinet,
                    "order": 1,
                },
            ],
            source=str(desk.page.pk),
        ),
    )
    assert response.status_code == 302
    workflow = ApprovalWorkflow.objects.get(organization=desk.org)
    assert workflow.source == desk.page and workflow.for_posts and not workflow.for_replies
    steps = list(workflow.steps.order_by("position"))
    assert [(step.position, step.name, step.rule, step.required) for step in steps] == [
        (1, "Cabinet", "n_of", 2),
        (2, "Élu", "any", 1),
    ]
    assert set(steps[0].approvers.all()) == set(desk.cabinet)
    assert steps[1].allow_external and list(steps[1].approvers.all()) == [desk.admin]
    event = AuditEvent.objects.get(action="workflow.save", object_id=str(workflow.pk))
    assert [step["name"] for step in event.after["steps"]] == ["Cabinet", "Élu"]
    page = client.get(url(desk, "workflows/")).content.decode()
    assert "Page de la ville" in page and "2 of them" in page and "cabinet1" in page

    # Edited: the first step's row is changed in place, the second removed.
    first = steps[0].pk
    edit = form_data("Page de la ville", [{"name": "Cabinet du maire", "approvers": desk.cabinet}])
    edit.update({"steps-TOTAL_FORMS": "2", "steps-INITIAL_FORMS": "2"})
    edit.update({"steps-1-name": "Élu", "steps-1-rule": "any", "steps-1-required": "1"})
    edit.update({"steps-1-approvers": [str(desk.admin.pk)], "steps-1-DELETE": "on"})
    edit["source"] = str(desk.page.pk)
    assert client.post(url(desk, f"workflows/{workflow.pk}/"), edit).status_code == 302
    assert [(step.pk, step.name) for step in workflow.steps.all()] == [(first, "Cabinet du maire")]


def test_n_of_them_cannot_ask_more_than_the_group(desk: Any, verified_client: Any) -> None:
    response = verified_client(desk.admin).post(
        url(desk, "workflows/new/"),
        form_data(
            "Cabinet",
            [{"name": "Cabinet", "rule": "n_of", "required": 3, "approvers": desk.cabinet}],
        ),
    )
    assert response.status_code == 400
    assert "Step 1 asks for 3 approvals from a group of 2 people." in response.content.decode()
    assert not ApprovalWorkflow.objects.exists()


def test_an_approver_must_be_a_member_who_may_approve(
    desk: Any, other_org: Any, make_user: Any, verified_client: Any
) -> None:
    outsider = make_user("ailleurs", org=other_org, role="admin")
    viewer = make_user("lecteur", org=desk.org, role="viewer")
    actor = desk.actor(desk.admin)
    with pytest.raises(PublishingError, match="ailleurs is not a member of the organization"):
        workflows.save_workflow(
            actor,
            desk.org,
            name="Cabinet",
            steps=[workflows.StepInput("Cabinet", approvers=[desk.cabinet[0], outsider])],
        )
    with pytest.raises(PublishingError, match="the role of lecteur does not let them approve"):
        workflows.save_workflow(
            actor, desk.org, name="Cabinet", steps=[workflows.StepInput("C", approvers=[viewer])]
        )
    # The page offers neither: choosing them is refused by the form.
    response = verified_client(desk.admin).post(
        url(desk, "workflows/new/"),
        form_data("Cabinet", [{"name": "Cabinet", "approvers": [outsider]}]),
    )
    assert response.status_code == 400
    assert not ApprovalWorkflow.objects.exists()
    with pytest.raises(PublishingError, match="at least one step"):
        workflows.save_workflow(actor, desk.org, name="Vide", steps=[])
    with pytest.raises(PublishingError, match="choose its approvers"):
        workflows.save_workflow(actor, desk.org, name="Vide", steps=[workflows.StepInput("S")])


def test_a_second_default_workflow_is_refused_in_words(
    desk: Any, cabinet_workflow: Any, verified_client: Any
) -> None:
    client = verified_client(desk.admin)
    response = client.post(
        url(desk, "workflows/new/"),
        form_data("Autre", [{"name": "Direction", "approvers": [desk.admin]}]),
    )
    assert response.status_code == 400
    assert "The organization already has a default workflow (Cabinet)" in response.content.decode()
    assert ApprovalWorkflow.objects.count() == 1
    actor = desk.actor(desk.admin)
    step = workflows.StepInput("Direction", approvers=[desk.admin])
    workflows.save_workflow(actor, desk.org, name="Page", source=desk.page, steps=[step])
    with pytest.raises(PublishingError, match="The account Page already has its own workflow"):
        workflows.save_workflow(actor, desk.org, name="Bis", source=desk.page, steps=[step])


def test_a_workflow_with_posts_in_review_is_not_deleted(
    desk: Any, cabinet_workflow: Any, verified_client: Any
) -> None:
    post = services.save_post(
        desk.actor(desk.author), desk.org, [VariantInput(source=desk.page, text="Marché")]
    )
    assert services.submit(desk.actor(desk.author), post).state == Post.State.IN_REVIEW
    client = verified_client(desk.admin)
    response = client.post(url(desk, f"workflows/{cabinet_workflow.pk}/delete/"), follow=True)
    assert "1 post is in review under this workflow" in response.content.decode()
    assert ApprovalWorkflow.objects.filter(pk=cabinet_workflow.pk).exists()
    # Once the post is sent back, no post waits under it: it goes.
    services.decide(desk.actor(desk.cabinet[0]), post, approve=False, comment="Pas maintenant")
    response = client.post(url(desk, f"workflows/{cabinet_workflow.pk}/delete/"))
    assert response.status_code == 302
    assert not ApprovalWorkflow.objects.exists() and not ApprovalStep.objects.exists()
    assert AuditEvent.objects.filter(action="workflow.delete").exists()


def test_members_read_the_workflows_administrators_change_them(
    desk: Any, cabinet_workflow: Any, verified_client: Any
) -> None:
    client = verified_client(desk.author)
    assert "Cabinet du maire" in client.get(url(desk, "workflows/")).content.decode()
    assert client.get(url(desk, "workflows/new/")).status_code == 403
    assert client.post(url(desk, f"workflows/{cabinet_workflow.pk}/delete/")).status_code == 403
    assert ApprovalWorkflow.objects.exists()


def test_settings_are_saved_and_the_domains_checked(
    desk: Any, verified_client: Any, make_user: Any
) -> None:
    client = verified_client(desk.admin)
    values = {
        "own_domains": "Ville-Exemple.fr\n\n  agenda.ville-exemple.fr  \nville-exemple.fr",
        "utm_source": "beffroi",
        "utm_medium": "social",
        "utm_campaign": "",
        "approval_hours": "4",
    }
    assert client.post(url(desk, "settings/"), values).status_code == 302
    saved = services.settings_of(desk.org)
    assert saved.domains() == ["ville-exemple.fr", "agenda.ville-exemple.fr"]
    assert (saved.utm_source, saved.approval_hours) == ("beffroi", 4)
    assert AuditEvent.objects.filter(action="publishing.settings").count() == 1

    response = client.post(
        url(desk, "settings/"), {**values, "own_domains": "https://ville.fr/agenda\nok.fr"}
    )
    assert response.status_code == 400
    assert "This line is not a domain name: https://ville.fr/agenda." in response.content.decode()
    assert services.settings_of(desk.org).domains() == [
        "ville-exemple.fr",
        "agenda.ville-exemple.fr",
    ]

    viewer = verified_client(make_user("lecteur", org=desk.org, role="viewer"))
    assert viewer.get(url(desk, "settings/")).status_code == 200
    assert viewer.post(url(desk, "settings/"), {**values, "utm_source": "x"}).status_code == 403
    assert services.settings_of(desk.org).utm_source == "beffroi"
