"""The moderation model reads a message without its links and @mentions: a tweet tagging the
town's accounts is not evidence of harassment, nor a link of spam (docs/moderation.md,
"Citizens are not haters"). The rules still read everything."""

from __future__ import annotations

from beffroi.analysis.moderation.classifier import (
    LabelledText,
    classifier_reading,
    letter_scripts,
    main_script,
    readable,
    train,
)


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


def test_the_marks_of_a_retweet_or_a_share_go_with_their_mention() -> None:
    assert classifier_reading("RT @mybmc: Water cut on Tuesday") == "Water cut on Tuesday"
    assert classifier_reading("RT @mybmc: …") == "…"
    assert classifier_reading("Great read via @TheHindu") == "Great read"
    # Without a mention, "RT" and "via" are the author's own words.
    assert classifier_reading("RT is a TV channel") == "RT is a TV channel"
    assert classifier_reading("Go via the ring road @traffic") == "Go via the ring road"


def test_readable_needs_letters_mostly_in_the_scripts_learned() -> None:
    latin_arabic = ("ARABIC", "LATIN")
    assert readable("Bins not collected", latin_arabic)
    assert readable("الحاويات لم تُفرغ", latin_arabic)
    # Emoji, numbers and punctuation only: nothing to read.
    assert not readable("😂😂😂😂😂", latin_arabic)
    assert not readable("@ … 12:30 !!!", latin_arabic)
    # Mostly in a writing system the model never learned (Devanagari), or a little of it.
    assert not readable("स्वच्छ भारत मिशन का मजाक", latin_arabic)
    assert readable("Swachh Bharat, स्वच्छ, a good campaign for every ward", latin_arabic)
    assert letter_scripts("ab स्व") == {"LATIN": 2, "DEVANAGARI": 2}
    assert main_script("123 😂") is None


def test_a_model_judges_only_what_it_can_read_and_records_what_it_learned_from() -> None:
    base = [
        *(LabelledText(f"you filthy rat number {i}, get out", "insult") for i in range(25)),
        *(LabelledText(f"go back where you came from {i}", "hate") for i in range(25)),
        *(LabelledText(f"the library opens at {i} o'clock", "none") for i in range(25)),
        # Six emoji-only "insults" are not learned from: the model reads words.
        *(LabelledText("🐀" * (i + 1), "insult") for i in range(6)),
    ]
    model = train([], base=base, representation="char")
    assert model.scripts == ("LATIN",)
    assert model.trained_on == 75
    assert model.score(["🐀🐀🐀"]) == [[]]
    assert model.violation_probability(["Мусор не вывезли третий день"]) == [0.0]
    assert model.violation_probability(["you filthy rat, get out"])[0] > 0.5
    # A model saved before the scripts were recorded reads the default corpus's.
    model.metadata.pop("scripts")
    assert model.scripts == ("ARABIC", "LATIN")
