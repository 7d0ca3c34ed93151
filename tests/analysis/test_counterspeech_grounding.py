"""The grounding check of drafted replies: a figure, a date, a link, an account or a name the
sources do not hold is a problem; what they hold, however it is written, is not."""

from __future__ import annotations

import pytest

from beffroi.analysis.counterspeech.grounding import (
    GroundingProblem,
    ProblemKind,
    check_grounding,
    number_values,
)

FR_SOURCE = (
    "Qualité de l'eau à Saint-Aubin-sur-Loire\nhttps://www.saint-aubin.fr/eau-potable\n"
    "L'ARS Centre-Val de Loire a réalisé 1 200 prélèvements en 2025 : 99,5 % étaient "
    "conformes. Le rapport a été publié le 12 mars 2025 par Jean Dupont. "
    "Questions : eau@saint-aubin.fr, ou @MairieSaintAubin sur les réseaux."
)
EN_SOURCE = (
    "Tap water in Saint-Aubin is tested 52 times a year; 99.5% of the 1,200 samples taken "
    "in 2025 met the standards (Regional Health Agency report, March 12, 2025). "
    "Details: https://www.saint-aubin.fr/eau-potable"
)


def kinds(problems: list[GroundingProblem]) -> list[tuple[str, str]]:
    return [(problem.kind.value, problem.token) for problem in problems]


# --- numbers --------------------------------------------------------------------------------


def test_a_fabricated_number_is_rejected() -> None:
    draft = "L'eau est sûre : 97 % des prélèvements étaient conformes [1]."
    assert kinds(check_grounding(draft, [FR_SOURCE])) == [("number", "97")]


def test_a_number_present_in_a_source_is_accepted_however_it_is_written() -> None:
    for draft in (
        "Sur 1 200 prélèvements, 99,5 % étaient conformes [1].",
        "Sur 1200 prélèvements, 99,5% étaient conformes [1].",
        "Sur 1\u202f200 prélèvements en 2025, 99,5 % étaient conformes [1].",
    ):
        assert check_grounding(draft, [FR_SOURCE]) == [], draft


def test_english_and_french_decimal_marks_mean_the_same_value() -> None:
    # The English source writes 99.5 and 1,200; the French draft 99,5 and 1 200.
    draft = "Sur 1 200 échantillons, 99,5 % étaient conformes [1]."
    assert check_grounding(draft, [EN_SOURCE]) == []
    # …and a figure close to one of theirs is still another figure.
    assert kinds(check_grounding("Sur 1 300 échantillons [1].", [EN_SOURCE])) == [
        ("number", "1 300")
    ]


def test_an_ambiguous_separator_stands_for_both_values() -> None:
    assert number_values("1,200") == {"1.2", "1200"}
    assert number_values("3,5") == {"3.5"}
    assert number_values("1.200.000") == {"1200000"}
    assert number_values("1,200.50") == {"1200.5"}
    assert number_values("1 200,5") == {"1200.5"}


def test_citation_markers_are_not_numbers() -> None:
    assert check_grounding("L'eau est contrôlée [1], [2, 3] et [4][5].", [FR_SOURCE]) == []


def test_arabic_indic_digits_are_read_as_digits() -> None:
    assert check_grounding("٩٩٫٥٪ من العينات مطابقة [1].", [FR_SOURCE]) == []
    assert kinds(check_grounding("٩٧٪ من العينات مطابقة [1].", [FR_SOURCE])) == [("number", "97")]


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written", ["12/03/2025", "12.03.2025", "2025-03-12", "12 mars 2025", "12 mars", "March 12"]
)
def test_a_date_in_a_source_is_accepted_in_any_form(written: str) -> None:
    assert check_grounding(f"Le rapport date du {written} [1].", [FR_SOURCE]) == []


def test_a_date_absent_from_the_sources_is_rejected() -> None:
    assert kinds(check_grounding("Publié le 13 mars 2025 [1].", [FR_SOURCE])) == [
        ("date", "13 mars 2025")
    ]
    assert kinds(check_grounding("Published on 14/03/2025 [1].", [EN_SOURCE])) == [
        ("date", "14/03/2025")
    ]


# --- links and accounts ---------------------------------------------------------------------


def test_a_link_not_in_the_sources_is_rejected() -> None:
    draft = "Tous les résultats : https://www.eau-verite.example/rapport-2025 [1]."
    assert kinds(check_grounding(draft, [FR_SOURCE])) == [
        ("link", "https://www.eau-verite.example/rapport-2025")
    ]


def test_a_link_of_the_sources_is_accepted_with_or_without_scheme() -> None:
    for link in (
        "https://www.saint-aubin.fr/eau-potable",
        "http://saint-aubin.fr/eau-potable/",
        "saint-aubin.fr",
    ):
        assert check_grounding(f"Les résultats : {link} [1].", [FR_SOURCE]) == [], link


def test_another_page_of_a_source_s_site_is_a_link_of_its_own() -> None:
    draft = "Voir https://www.saint-aubin.fr/eau-potable-2024 [1]."
    assert kinds(check_grounding(draft, [FR_SOURCE])) == [
        ("link", "https://www.saint-aubin.fr/eau-potable-2024")
    ]


def test_e_mail_addresses_and_handles_must_be_in_the_sources() -> None:
    assert (
        check_grounding("Écrivez à eau@saint-aubin.fr ou à @MairieSaintAubin [1].", [FR_SOURCE])
        == []
    )
    assert kinds(
        check_grounding("Écrivez à contact@saint-aubin.fr ou à @VraieInfoEau [1].", [FR_SOURCE])
    ) == [("link", "contact@saint-aubin.fr"), ("handle", "@vraieinfoeau")]


# --- names ----------------------------------------------------------------------------------


def test_a_name_not_in_the_sources_is_rejected_in_french_and_english() -> None:
    assert kinds(check_grounding("Selon Marie Curie, l'eau est sûre [1].", [FR_SOURCE])) == [
        ("name", "Marie Curie")
    ]
    assert kinds(check_grounding("As Doctor Smith said, it is safe [1].", [EN_SOURCE])) == [
        ("name", "Doctor Smith")
    ]


def test_names_of_the_sources_are_accepted_whatever_their_case() -> None:
    draft = (
        "L'ARS a contrôlé l'eau de Saint-Aubin-sur-Loire ; le rapport de jean dupont "
        "le dit [1]. Merci de votre question. Le Saint-Aubin-Sur-Loire de l'ARS aussi."
    )
    assert check_grounding(draft, [FR_SOURCE]) == []


def test_the_first_word_of_a_sentence_and_function_words_are_not_names() -> None:
    draft = (
        "Bonjour. Nous comprenons votre inquiétude. Depuis 2025, l'eau est contrôlée [1]. "
        "I understand: Thank you. Monday and March are not names either."
    )
    assert check_grounding(draft, [FR_SOURCE]) == []


def test_an_acronym_counts_even_at_the_start_of_a_sentence() -> None:
    assert kinds(check_grounding("OMS et ARS le disent [1].", [FR_SOURCE])) == [("name", "OMS")]


def test_arabic_text_is_not_searched_for_names() -> None:
    assert check_grounding("المياه آمنة في المدينة [1].", [FR_SOURCE]) == []


def test_each_problem_is_listed_once_with_its_kind() -> None:
    draft = "97 % et 97 % selon Marie Curie et Marie Curie [1]."
    problems = check_grounding(draft, [FR_SOURCE])
    assert problems == [
        GroundingProblem(ProblemKind.NUMBER, "97"),
        GroundingProblem(ProblemKind.NAME, "Marie Curie"),
    ]


def test_without_sources_every_fact_is_a_problem() -> None:
    problems = check_grounding("Selon l'ARS, 99,5 % en 2025 : https://x.example/a [1].", [])
    assert {problem.kind for problem in problems} == {
        ProblemKind.NUMBER,
        ProblemKind.LINK,
        ProblemKind.NAME,
    }
