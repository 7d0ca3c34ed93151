"""How well the application's claim matching finds the demo town's labelled stories
(``beffroi eval claims-demo``).

The demo's builder labels every item (``raw["beffroi_demo_label"]``): the hoax's posts and
comments (category ``hoax``) spread the water claim, the impostor's (``impersonation``) the
fake 250 € aid. The demo's fact-check feed checks both claims, and the town's denial joins the
library as a rebuttal of the first. This reads the matches the veille made (or makes them
again) and counts:

- **recall**, per story: the share of the items spreading it matched to its claim;
- **precision**: the share of matches whose item belongs to the claim's story (the labels'
  ``group``: the posts spreading it, and the questions about it, where the fact-check's
  suggested reply is what the community manager needs), and the strict share whose item
  spreads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beffroi.demo.town import HOAX_ID, IMPERSONATION_ID
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.veille.models import CheckedClaim, ClaimMatch

#: The category of the items that spread each story.
SPREADING = {HOAX_ID: "hoax", IMPERSONATION_ID: "impersonation"}
#: The demo fact-check feed's reviews (``fact-checks.json``), by the end of their address.
REVIEWS = {"eau-saint-aubin-contaminee": HOAX_ID, "aide-250-euros-mairie": IMPERSONATION_ID}


@dataclass(frozen=True)
class StoryRecall:
    story: str
    items: int
    matched: int

    @property
    def recall(self) -> float:
        return self.matched / self.items if self.items else 0.0


@dataclass(frozen=True)
class MatchingReport:
    stories: list[StoryRecall]
    matches: int
    in_story: int
    spreading: int

    @property
    def recall(self) -> float:
        items = sum(story.items for story in self.stories)
        return sum(story.matched for story in self.stories) / items if items else 0.0

    @property
    def precision(self) -> float:
        return self.in_story / self.matches if self.matches else 0.0

    @property
    def strict_precision(self) -> float:
        return self.spreading / self.matches if self.matches else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "stories": {
                story.story: {
                    "items": story.items,
                    "matched": story.matched,
                    "recall": round(story.recall, 3),
                }
                for story in self.stories
            },
            "recall": round(self.recall, 3),
            "matches": self.matches,
            "precision": round(self.precision, 3),
            "strict_precision": round(self.strict_precision, 3),
        }


def claim_story(claim: CheckedClaim) -> str | None:
    """The demo story a library entry checks (the demo's rebuttal is the water denial)."""
    if claim.origin == CheckedClaim.Origin.REBUTTAL:
        return HOAX_ID
    for ending, story in REVIEWS.items():
        if claim.url.rstrip("/").endswith(ending):
            return story
    return None


def _label(item: Item) -> dict[str, Any]:
    label = (item.raw or {}).get("beffroi_demo_label")
    return label if isinstance(label, dict) else {}


def measure(organization: Organization) -> MatchingReport:
    """Recall and precision of the organization's stored claim matches on the demo labels."""
    stories = {claim.pk: claim_story(claim) for claim in organization_claims(organization)}
    matched: dict[str, set[int]] = {story: set() for story in SPREADING}
    matches = in_story = spreading = 0
    for match in ClaimMatch.objects.filter(organization=organization).select_related("item"):
        story = stories.get(match.claim_id)
        label = _label(match.item)
        matches += 1
        if story is not None and label.get("group") == story:
            in_story += 1
            if label.get("category") == SPREADING[story]:
                spreading += 1
                matched[story].add(match.item_id)
    recalls = []
    for story, category in SPREADING.items():
        items = [
            item
            for item in Item.objects.filter(organization=organization).only("raw")
            if _label(item).get("category") == category and _label(item).get("group") == story
        ]
        recalls.append(StoryRecall(story, len(items), len(matched[story])))
    return MatchingReport(recalls, matches, in_story, spreading)


def organization_claims(organization: Organization) -> list[CheckedClaim]:
    return list(CheckedClaim.objects.filter(organization=organization))


def rematch(organization: Organization) -> int:
    """Forget the organization's claim matches and match every item again, as a scan does
    (items against the library, then their watches, narratives and threads)."""
    from beffroi.veille import claims

    ClaimMatch.objects.filter(organization=organization).delete()
    claims.library_changed(organization)
    return claims.match_items(organization) + claims.follow_context(organization)
