"""The moderation model reads a message without its links and @mentions: a tweet tagging the
town's accounts is not evidence of harassment, nor a link of spam (docs/moderation.md,
"Citizens are not haters"). The rules still read everything."""

from __future__ import annotations

from beffroi.analysis.moderation.classifier import LabelledText, classifier_reading, train


def test_links_and_mentions_are_left_out_and_e_mails_kept() -> None:
    text = "@mybmc @MumbaiPolice pothole near the station https://t.co/xyz, write to a.b@ville.fr"
    assert classifier_reading(text) == "pothole near the station write to a.b@ville.fr"
    assert classifier_reading("Nothing to remove here.") == "Nothing to remove here."
    assert classifier_reading("www.example.org @maire") == ""


def test_a_mention_the_corpus_only_saw_in_harassment_does_not_count() -> None:
    # A corpus where every mention is harassment: a model reading mentions would learn them.
    base = [
        *(LabelledText(f"@user{i} you are worthless, get lost", "harassment") for i in range(12)),
        *(LabelledText(f"@victim{i} nobody wants you here", "harassment") for i in range(12)),
        *(LabelledText(f"the bins on street {i} were not collected", "none") for i in range(12)),
        *(LabelledText(f"thank you for the concert number {i}", "none") for i in range(12)),
    ]
    model = train([], base=base, representation="char")
    plain = "the bins on my street were not collected"
    tagged = "@mybmc @MumbaiPolice the bins on my street were not collected https://t.co/x"
    assert model.probabilities([tagged]) == model.probabilities([plain])
    assert model.violation_probability([tagged])[0] < 0.5
    # What the model learned from words still counts with the mentions around it.
    assert model.violation_probability(["@mybmc you are worthless, get lost"])[0] > 0.5


def test_a_message_of_nothing_but_mentions_and_links_is_nothing_to_judge() -> None:
    base = [
        *(
            LabelledText(f"buy cheap pills now {i} https://spam.example/{i}", "spam")
            for i in range(12)
        ),
        *(LabelledText(f"the market opens at {i} o'clock", "none") for i in range(12)),
    ]
    model = train([], base=base, representation="char")
    assert model.score(["@mybmc @MumbaiPolice https://t.co/abc"]) == [[]]
    assert model.violation_probability(["https://t.co/abc"]) == [0.0]
    assert model.score(["buy cheap pills now https://t.co/abc"])[0][0].category == "spam"
