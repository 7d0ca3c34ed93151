"""Routing: ordered rules (stop, continue, shadow), then the learned model."""

from __future__ import annotations

import pytest

from beffroi.analysis.requests.detect import RequestExample
from beffroi.analysis.requests.routing import (
    Message,
    Router,
    RoutingRule,
    train_service_model,
)
from beffroi.analysis.watch_query import WatchQueryError

LIGHT = RoutingRule("lampadaires", "eclairage", keywords=("lampadaire", "éclairage public"))
WATER = RoutingRule("eau", "eau_assainissement", query="(eau OR fuite*) -piscine")


def test_first_matching_stop_rule_decides() -> None:
    router = Router([LIGHT, WATER])
    decision = router.route(Message("Le LAMPADAIRE est éteint et il y a une fuite d'eau"))
    assert (decision.service, decision.decided_by, decision.rule) == (
        "eclairage",
        "rule",
        "lampadaires",
    )
    assert decision.confidence == 1.0
    assert [m.rule for m in decision.matches] == ["lampadaires"]  # stopped there


def test_continue_lets_a_later_rule_override() -> None:
    first = RoutingRule("tout signalement", "autre", keywords=("signalement",), then="continue")
    router = Router([first, WATER])
    decision = router.route(Message("Signalement : fuite rue Pasteur"))
    assert (decision.service, decision.rule) == ("eau_assainissement", "eau")
    assert [m.rule for m in decision.matches] == ["tout signalement", "eau"]
    alone = router.route(Message("Signalement : banc cassé"))
    assert (alone.service, alone.rule) == ("autre", "tout signalement")


def test_query_words_not_substrings_and_exclusions() -> None:
    router = Router([WATER])
    assert router.route(Message("le réseau est en panne")).decided_by == "default"
    assert router.route(Message("l'eau de la piscine est froide")).decided_by == "default"
    assert router.route(Message("fuites partout")).service == "eau_assainissement"


def test_shadow_rule_is_reported_not_applied() -> None:
    shadow = RoutingRule("essai voirie", "voirie", keywords=("trou",), shadow=True)
    router = Router([shadow, WATER])
    decision = router.route(Message("un trou et une fuite d'eau"))
    assert (decision.service, decision.rule) == ("eau_assainissement", "eau")
    assert [(m.rule, m.shadow) for m in decision.matches] == [
        ("essai voirie", True),
        ("eau", False),
    ]
    assert decision.shadow_service == "voirie"  # what it would do if it were live
    plain = router.route(Message("un trou dans la route"))
    assert plain.decided_by == "default" and plain.shadow_service == "voirie"


def test_platform_source_and_author_conditions() -> None:
    police = RoutingRule("compte police", "police_municipale", authors=("@PoliceMunicipale",))
    insta = RoutingRule("insta école", "ecoles", keywords=("cantine",), platforms=("instagram",))
    page = RoutingRule("page CCAS", "social", sources=("page-ccas",))
    router = Router([police, insta, page])
    assert router.route(Message("bonjour", author_handle="policemunicipale")).service == (
        "police_municipale"
    )
    assert router.route(Message("menu cantine ?", platform="instagram")).service == "ecoles"
    assert router.route(Message("menu cantine ?", platform="facebook")).decided_by == "default"
    assert router.route(Message("aide", source="page-ccas")).service == "social"


def test_bad_rules_are_refused() -> None:
    with pytest.raises(WatchQueryError):
        RoutingRule("cassée", "voirie", query="(eau")
    with pytest.raises(ValueError, match="no condition"):
        RoutingRule("vide", "voirie")
    with pytest.raises(ValueError, match="stop"):
        RoutingRule("x", "voirie", keywords=("x",), then="later")  # type: ignore[arg-type]


EXAMPLES = [
    RequestExample("trou dans la route", True, "voirie"),
    RequestExample("nid de poule sur la chaussée", True, "voirie"),
    RequestExample("la route est défoncée", True, "voirie"),
    RequestExample("poubelles pas ramassées", True, "proprete"),
    RequestExample("dépôt sauvage de déchets", True, "proprete"),
    RequestExample("les poubelles débordent", True, "proprete"),
]


def test_model_decides_when_no_rule_matches_and_learns_corrections() -> None:
    model = train_service_model(base=EXAMPLES, use_embedding=False)
    router = Router([LIGHT], model)
    decision = router.route(Message("un gros trou sur la route"))
    assert (decision.service, decision.decided_by) == ("voirie", "model")
    assert 0.0 < decision.confidence <= 1.0 and decision.model == model.version
    text = "le marché laisse la place sale"
    assert router.route(Message(text)).service != "espaces_verts"
    corrections = [
        RequestExample("le marché laisse la place sale", True, "espaces_verts"),
        RequestExample("la place du marché est sale", True, "espaces_verts"),
    ]
    learned = train_service_model(corrections, base=EXAMPLES, use_embedding=False)
    assert Router([], learned).route(Message(text)).service == "espaces_verts"


def test_shadow_model_is_reported_beside_the_live_one() -> None:
    live = train_service_model(base=EXAMPLES, use_embedding=False)
    other = [RequestExample(e.text, True, "autre" if e.service == "voirie" else e.service)
             for e in EXAMPLES]  # fmt: skip
    shadow = train_service_model(base=other, use_embedding=False)
    decision = Router([], live, shadow_model=shadow).route(Message("trou dans la route"))
    assert (decision.service, decision.shadow_model_service) == ("voirie", "autre")
