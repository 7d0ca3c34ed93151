"""Text normalization: evasions folded, ordinary French, English and Arabic left meaningful."""

from __future__ import annotations

import pytest

from beffroi.analysis.moderation.normalize import NormalizedText, join_spaced_letters, normalize

# --- Evasions that must fold to the plain word -----------------------------------------


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        # Homoglyphs: Cyrillic а/е/о/с/р, Greek ο/ν/α, mixed inside one word.
        ("соnnаrd", "connard"),
        ("Sаlоpе", "salope"),
        ("idiοt", "idiot"),
        ("ѕсum", "scum"),
        ("kіll", "kill"),
        # Fullwidth, mathematical bold/italic/script, circled letters, small capitals.
        ("ｃｏｎｎａｒｄ", "connard"),
        ("𝐜𝐨𝐧𝐧𝐚𝐫𝐝", "connard"),
        ("𝒊𝒅𝒊𝒐𝒕", "idiot"),
        ("ⓒⓞⓝ", "con"),
        ("ᴄᴏɴɴᴀʀᴅ", "connard"),
        # Leetspeak, letters and symbols.
        ("c0nnard", "connard"),
        ("n1qu3", "nique"),
        ("1d10t", "idiot"),
        ("h4ine", "haine"),
        ("b@tard", "batard"),
        ("$alope", "salope"),
        ("k!ll", "kill"),
        ("m€rde", "merde"),
        ("4rabes", "arabes"),
        # Separators inside the word, the same one each time.
        ("c.o.n.n.a.r.d", "connard"),
        ("k i l l", "kill"),
        ("c-o-n", "con"),
        ("c_o_n", "con"),
        ("s . a . l . o . p . e", "salope"),
        ("c.0.n.n.4.r.d", "connard"),
        # Repeated letters squeezed to two.
        ("connnnnnard", "connard"),
        ("sallllope", "sallope"),
        ("nuuuuul", "nuul"),
        # Invisible characters and stacked diacritics ("Zalgo").
        ("con\u200bnard", "connard"),
        ("k\u200di\u200dl\u200dl", "kill"),
        ("sa\u00adlo\u2060pe", "salope"),
        ("c\u0337o\u0337n\u0337n\u0337a\u0337r\u0337d\u0337", "connard"),
        ("enculé", "encule"),
        # Arabic: tashkeel, tatweel, alef/ya/ta marbuta forms.
        ("كَلْب", "كلب"),
        ("كـــــلب", "كلب"),
        ("إرهابي", "ارهابي"),
        ("أحمق", "احمق"),
        ("مدرسة", "مدرسه"),
        ("على", "علي"),
        ("كلبببببب", "كلبب"),
        ("ﻛﻠﺐ", "كلب"),  # presentation forms
    ],
)
def test_evasions_fold_to_the_plain_word(written: str, folded: str) -> None:
    assert normalize(written).text == folded


def test_evasions_inside_sentences() -> None:
    assert normalize("Espèce de c0nnard !").text == "espece de connard !"
    assert normalize("I will k i l l you").text == "i will kill you"
    assert normalize("Les а r а b е s dehors").tokens == ("les", "arabes", "dehors")
    assert normalize("n1qu3 ta m3r3").text == "nique ta mere"
    assert normalize("YOU ARE AN IDIOOOOOT").text == "you are an idioot"


def test_mostly_cyrillic_text_is_not_turned_into_latin() -> None:
    # A Russian sentence stays Russian; only a word that mixes scripts is folded.
    assert normalize("Привет мир").text == "привет мир"
    assert normalize("Привет соnnard").text == "привет connard"


# --- Ordinary text must stay meaningful -------------------------------------------------


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("3 rue de la Paix", "3 rue de la paix"),
        ("Rendez-vous à 12h30 le 14/07/2024", "rendez-vous a 12h30 le 14/07/2024"),
        ("Le 1er mai, 3e étage, 10km, 4x4, 5G", "le 1er mai, 3e etage, 10km, 4x4, 5g"),
        ("covid19 et l'A380", "covid19 et l'a380"),
        ("Il y a à boire", "il y a a boire"),
        ("rendez-vous à 3 h", "rendez-vous a 3 h"),
        ("l'école, c'est M. le maire", "l'ecole, c'est m. le maire"),
        ("J'ai 20 ans et 5 enfants", "j'ai 20 ans et 5 enfants"),
        ("Merci.De rien", "merci.de rien"),
        ("Call 911 in 2024, I am 25.", "call 911 in 2024, i am 25."),
        ("Don't go, it's 5 o'clock", "don't go, it's 5 o'clock"),
        ("Bus n°3 à 7h", "bus n°3 a 7h"),
        ("Le coût : 1 500 €", "le cout : 1 500 €"),
        ("IBAN FR76 3000 6000 0112 3456 7890 189", "iban fr76 3000 6000 0112 3456 7890 189"),
        ("06 12 34 56 78", "06 12 34 56 78"),
        ("S.N.C.F.", "sncf."),
    ],
)
def test_ordinary_text_is_left_meaningful(written: str, folded: str) -> None:
    assert normalize(written).text == folded


def test_arabic_sentence_keeps_its_words() -> None:
    result = normalize("السَّلامُ عَلَيْكُمْ، متى تفتح البلدية يوم ٢٥ مايو؟")
    assert result.text == "السلام عليكم, متي تفتح البلديه يوم 25 مايو?"
    assert result.tokens == ("السلام", "عليكم", "متي", "تفتح", "البلديه", "يوم", "25", "مايو")


def test_french_accents_and_elisions() -> None:
    result = normalize("Aujourd'hui l'hôtel de ville ouvre à 9h")
    assert result.text == "aujourd'hui l'hotel de ville ouvre a 9h"
    assert result.tokens == ("aujourd", "hui", "l", "hotel", "de", "ville", "ouvre", "a", "9h")


# --- Links, mentions, hashtags, e-mail, emoji ------------------------------------------


def test_urls_are_extracted_without_tracking_and_replaced() -> None:
    result = normalize(
        "Lisez https://www.Exemple-News.com/article?id=42&utm_source=fb&fbclid=AbC. Ou bit.ly/3xYz !"
    )
    assert result.text == "lisez url . ou url !"
    assert result.urls == ("https://www.Exemple-News.com/article?id=42", "bit.ly/3xYz")
    assert result.domains == ("exemple-news.com", "bit.ly")


def test_telegram_link_and_zero_width_inside_domain() -> None:
    result = normalize("rejoins t.me/canal_x et arnaque\u200b.xyz")
    assert result.domains == ("t.me", "arnaque.xyz")
    assert result.text == "rejoins url et url"


def test_mentions_are_extracted_and_replaced() -> None:
    result = normalize("@MairieDeParis et @alice@mastodon.social, merci")
    assert result.mentions == ("@mairiedeparis", "@alice@mastodon.social")
    assert result.text == "@user et @user , merci"
    assert result.tokens == ("@user", "et", "@user", "merci")


def test_hashtags_are_split_into_words() -> None:
    result = normalize("#MortAuxTraitres #stop_crypto #JO2024")
    assert result.hashtags == ("mortauxtraitres", "stop_crypto", "jo2024")
    assert result.tokens == ("mort", "aux", "traitres", "stop", "crypto", "jo2024")


def test_email_addresses_stay_readable_and_are_listed() -> None:
    result = normalize("Écrivez à Jean.Dupont@exemple.fr ou au 06 12 34 56 78")
    assert result.emails == ("jean.dupont@exemple.fr",)
    assert "jean.dupont@exemple.fr" in result.text
    assert result.mentions == ()
    assert result.domains == ()


def test_emoji_become_words() -> None:
    result = normalize("Bravo 👍🏽 la mairie 💩💩")
    assert result.emojis == ("👍", "💩", "💩")
    assert result.text == "bravo emoji_thumbs_up la mairie emoji_pile_of_poo emoji_pile_of_poo"
    assert "emoji_pile_of_poo" in result.tokens


def test_emoji_sequences_with_joiners_stay_whole() -> None:
    result = normalize("famille 👨\u200d👩\u200d👧 ok")
    assert len(result.emojis) == 1
    assert result.text.startswith("famille emoji_family")


def test_result_shape() -> None:
    result = normalize("Hello")
    assert isinstance(result, NormalizedText)
    assert result.original == "Hello"
    assert result.tokens == ("hello",)
    assert normalize("").text == ""
    assert normalize("   ").tokens == ()


@pytest.mark.parametrize(
    ("written", "joined"),
    [
        ("contempt for M u s l i m s.", "contempt for Muslims."),
        ("Les R.A.T.S du quartier", "Les RATS du quartier"),
        ("k-i-l-l them", "kill them"),
        # Sentences of one-letter words, times and ordinary text are left as written.
        ("Il y a à boire", "Il y a à boire"),
        ("rendez-vous à 3 h", "rendez-vous à 3 h"),
        ("Élodie a dit « Bonjour »", "Élodie a dit « Bonjour »"),
    ],
)
def test_spaced_letters_are_joined_with_their_case(written: str, joined: str) -> None:
    assert join_spaced_letters(written) == joined
    # The same repair as the folded text's.
    assert normalize(written).text == normalize(joined).text
