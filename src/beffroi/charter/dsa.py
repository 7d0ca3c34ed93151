"""The EU DSA Transparency Database vocabulary for statements of reasons, and a validator.

Plain Python (no Django), so the decision engine, the exports and the tests can share it.

Where the values come from (API version 2, in force since 1 July 2025, when the database
adopted the categories of the Implementing Regulation (EU) 2024/2835 on transparency
reporting templates):

- field names, the ``category``, ``category_addition`` and ``category_specification`` values,
  the required and conditional fields, text limits and date rules: the API documentation of
  the database, ``resources/markdown/api-documentation-two.md`` in
  https://github.com/digital-services-act/transparency-database (commit
  ``ea9109063034612a6da803a9dad92f2d701ee204``), published at
  https://transparency.dsa.ec.europa.eu/page/api-documentation;
- the values that page renders from the Laravel model (``decision_visibility``,
  ``decision_monetary``, ``decision_provision``, ``decision_account``, ``account_type``,
  ``decision_ground``, ``content_type``, ``source_type``, ``automated_decision``):
  ``app/Models/Statement.php`` of the same repository (the 2024 model that introduced
  them; API version 2 kept them);
- which keywords belong to which category: Annex I of the Implementing Regulation
  (EU) 2024/2835, "categories names" (the database lists the keywords without this grouping).

Version 1 of the API used other categories (for instance
``STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE``, renamed ``STATEMENT_CATEGORY_OTHER_VIOLATION_TC``
in version 2); only version 2 values are accepted here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final

API_VERSION: Final = "2"

#: ``decision_visibility`` (a list): restriction of the visibility of the content.
DECISION_VISIBILITIES: Final[dict[str, str]] = {
    "DECISION_VISIBILITY_CONTENT_REMOVED": "Removal of content",
    "DECISION_VISIBILITY_CONTENT_DISABLED": "Disabling access to content",
    "DECISION_VISIBILITY_CONTENT_DEMOTED": "Demotion of content",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED": "Age restricted content",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED": "Restricting interaction with content",
    "DECISION_VISIBILITY_CONTENT_LABELLED": "Labelled content",
    "DECISION_VISIBILITY_OTHER": "Other restriction (please specify)",
}

DECISION_MONETARIES: Final[dict[str, str]] = {
    "DECISION_MONETARY_SUSPENSION": "Suspension of monetary payments",
    "DECISION_MONETARY_TERMINATION": "Termination of monetary payments",
    "DECISION_MONETARY_OTHER": "Other restriction (please specify)",
}

DECISION_PROVISIONS: Final[dict[str, str]] = {
    "DECISION_PROVISION_PARTIAL_SUSPENSION": "Partial suspension of the provision of the service",
    "DECISION_PROVISION_TOTAL_SUSPENSION": "Total suspension of the provision of the service",
    "DECISION_PROVISION_PARTIAL_TERMINATION": "Partial termination of the provision of the service",
    "DECISION_PROVISION_TOTAL_TERMINATION": "Total termination of the provision of the service",
}

DECISION_ACCOUNTS: Final[dict[str, str]] = {
    "DECISION_ACCOUNT_SUSPENDED": "Suspension of the account",
    "DECISION_ACCOUNT_TERMINATED": "Termination of the account",
}

ACCOUNT_TYPES: Final[dict[str, str]] = {
    "ACCOUNT_TYPE_BUSINESS": "Business",
    "ACCOUNT_TYPE_PRIVATE": "Private",
}

DECISION_GROUND_ILLEGAL: Final = "DECISION_GROUND_ILLEGAL_CONTENT"
DECISION_GROUND_INCOMPATIBLE: Final = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
DECISION_GROUNDS: Final[dict[str, str]] = {
    DECISION_GROUND_ILLEGAL: "Illegal Content",
    DECISION_GROUND_INCOMPATIBLE: "Content incompatible with terms and conditions",
}

CONTENT_TYPES: Final[dict[str, str]] = {
    "CONTENT_TYPE_APP": "App",
    "CONTENT_TYPE_AUDIO": "Audio",
    "CONTENT_TYPE_IMAGE": "Image",
    "CONTENT_TYPE_PRODUCT": "Product",
    "CONTENT_TYPE_SYNTHETIC_MEDIA": "Synthetic Media",
    "CONTENT_TYPE_TEXT": "Text",
    "CONTENT_TYPE_VIDEO": "Video",
    "CONTENT_TYPE_OTHER": "Other",
}

SOURCE_TYPES: Final[dict[str, str]] = {
    "SOURCE_ARTICLE_16": "Notice submitted in accordance with Article 16 DSA",
    "SOURCE_TRUSTED_FLAGGER": "Notice submitted by a trusted flagger",
    "SOURCE_TYPE_OTHER_NOTIFICATION": "Other type of notification",
    "SOURCE_VOLUNTARY": "Own voluntary initiative",
}

#: ``automated_detection`` and ``incompatible_content_illegal`` take these literal words.
YES_NO: Final[tuple[str, str]] = ("Yes", "No")

AUTOMATED_DECISIONS: Final[dict[str, str]] = {
    "AUTOMATED_DECISION_FULLY": "Fully automated",
    "AUTOMATED_DECISION_PARTIALLY": "Partially automated",
    "AUTOMATED_DECISION_NOT_AUTOMATED": "Not Automated",
}

#: ``category`` (one) and ``category_addition`` (a list).
STATEMENT_CATEGORIES: Final[dict[str, str]] = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": "Animal welfare",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION": "Consumer information infringements",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": "Cyber violence",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": "Cyber violence against women",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS": (
        "Data protection and privacy violations"
    ),
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": "Illegal or harmful speech",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": "Intellectual property infringements",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": (
        "Negative effects on civic discourse or elections"
    ),
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE": (
        "Type of alleged illegal content not specified by the notifier"
    ),
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": "Other violation of provider’s terms and conditions",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": "Protection of minors",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": "Risk for public security",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": "Scams and/or fraud",
    "STATEMENT_CATEGORY_SELF_HARM": "Self-harm",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS": (
        "Unsafe, non-compliant or prohibited products"
    ),
    "STATEMENT_CATEGORY_VIOLENCE": "Violence",
}

KEYWORD_OTHER: Final = "KEYWORD_OTHER"

#: ``category_specification`` (a list of keywords).
CATEGORY_SPECIFICATIONS: Final[dict[str, str]] = {
    "KEYWORD_ANIMAL_HARM": "Animal harm",
    "KEYWORD_ADULT_SEXUAL_MATERIAL": "Adult sexual material",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS": "Age-specific restrictions",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS": "Age-specific restrictions concerning minors",
    "KEYWORD_BIOMETRIC_DATA_BREACH": "Biometric data breach",
    "KEYWORD_BULLYING_AGAINST_GIRLS": "Cyber bullying and intimidation against girls",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL": "Child sexual abuse material",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE": (
        "Child sexual abuse material containing deepfake or similar technology"
    ),
    "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS": "Content promoting eating disorders",
    "KEYWORD_COORDINATED_HARM": "Coordinated harm",
    "KEYWORD_COPYRIGHT_INFRINGEMENT": "Copyright infringements",
    "KEYWORD_CYBER_BULLYING_INTIMIDATION": "Cyber bullying and intimidation",
    "KEYWORD_CYBER_HARASSMENT": "Cyber harassment",
    "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN": "Cyber harassment against women",
    "KEYWORD_CYBER_INCITEMENT": "Cyber incitement to hatred or violence",
    "KEYWORD_CYBER_STALKING": "Cyber stalking",
    "KEYWORD_CYBER_STALKING_AGAINST_WOMEN": "Cyber stalking against women",
    "KEYWORD_DATA_FALSIFICATION": "Data falsification",
    "KEYWORD_DEFAMATION": "Defamation",
    "KEYWORD_DESIGN_INFRINGEMENT": "Design infringements",
    "KEYWORD_DISCRIMINATION": "Discrimination",
    "KEYWORD_MISINFORMATION_DISINFORMATION": (
        "Misinformation, disinformation, foreign information manipulation and interference"
    ),
    "KEYWORD_FEMALE_GENDERED_DISINFORMATION": "Gendered disinformation",
    "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT": "Geographic indications infringements",
    "KEYWORD_GEOGRAPHICAL_REQUIREMENTS": "Geographical requirements",
    "KEYWORD_GOODS_SERVICES_NOT_PERMITTED": (
        "Goods/services not permitted to be offered on the platform"
    ),
    "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS": "Grooming/sexual enticement of minors",
    "KEYWORD_HATE_SPEECH": (
        "Illegal incitement to violence and hatred based on protected characteristics (hate speech)"
    ),
    "KEYWORD_HIDDEN_ADVERTISEMENT": (
        "Hidden advertisement or commercial communication, including by influencers"
    ),
    "KEYWORD_HUMAN_EXPLOITATION": "Human exploitation",
    "KEYWORD_HUMAN_TRAFFICKING": "Human trafficking",
    "KEYWORD_ILLEGAL_ORGANIZATIONS": "Illegal organizations",
    "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING": "Impersonation or account hijacking",
    "KEYWORD_INAUTHENTIC_ACCOUNTS": "Inauthentic accounts",
    "KEYWORD_INAUTHENTIC_LISTINGS": "Inauthentic listings",
    "KEYWORD_INAUTHENTIC_USER_REVIEWS": "Inauthentic user reviews",
    "KEYWORD_INCITEMENT_AGAINST_WOMEN": "Illegal incitement to violence and hatred against women",
    "KEYWORD_INCITEMENT_VIOLENCE_HATRED": "General calls or incitement to violence and/or hatred",
    "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS": "Insufficient information on traders",
    "KEYWORD_LANGUAGE_REQUIREMENTS": "Language requirements",
    "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS": "Misleading information about the consumer’s rights",
    "KEYWORD_MISLEADING_INFO_GOODS_SERVICES": (
        "Misleading information about the characteristics of the goods and services"
    ),
    "KEYWORD_MISSING_PROCESSING_GROUND": "Missing processing ground for data",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING": (
        "Non-consensual (intimate) material sharing, including (image-based) sexual abuse "
        "(excluding content depicting minors)"
    ),
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN": (
        "Non-consensual (intimate) material sharing against women, including (image-based) "
        "sexual abuse against women (excluding content depicting minors)"
    ),
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE": (
        "Non-consensual sharing of material containing deepfake or similar technology using a "
        "third party's features (excluding content depicting minors)"
    ),
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN": (
        "Non-consensual sharing of material containing deepfake or similar technology using a "
        "third party's features against women (excluding content depicting minors)"
    ),
    "KEYWORD_NONCOMPLIANCE_PRICING": "Non-compliance with pricing regulations",
    "KEYWORD_NUDITY": "Nudity",
    "KEYWORD_PATENT_INFRINGEMENT": "Patent infringements",
    "KEYWORD_PHISHING": "Phishing",
    "KEYWORD_PROHIBITED_PRODUCTS": "Prohibited or restricted products",
    "KEYWORD_PYRAMID_SCHEMES": "Pyramid schemes",
    "KEYWORD_RIGHT_TO_BE_FORGOTTEN": "Right to be forgotten",
    "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE": "Risk for environmental damage",
    "KEYWORD_RISK_PUBLIC_HEALTH": "Risk for public health",
    "KEYWORD_SELF_MUTILATION": "Self-mutilation",
    "KEYWORD_STALKING": "Stalking",
    "KEYWORD_SUICIDE": "Suicide",
    "KEYWORD_TERRORIST_CONTENT": "Terrorist content",
    "KEYWORD_TRADE_SECRET_INFRINGEMENT": "Trade secret infringements",
    "KEYWORD_TRADEMARK_INFRINGEMENT": "Trademark infringements",
    "KEYWORD_TRAFFICKING_WOMEN_GIRLS": "Trafficking in women and girls",
    "KEYWORD_UNLAWFUL_SALE_ANIMALS": "Unlawful sale of animals",
    "KEYWORD_UNSAFE_CHALLENGES": "Unsafe challenges",
    "KEYWORD_UNSAFE_PRODUCTS": "Unsafe or non-compliant products",
    "KEYWORD_VIOLATION_EU_LAW": "Violation of EU law relevant to civic discourse or elections",
    "KEYWORD_VIOLATION_NATIONAL_LAW": (
        "Violation of national law relevant to civic discourse or elections"
    ),
    KEYWORD_OTHER: "Not captured by any other keyword",
}

#: The keywords of each category (Implementing Regulation (EU) 2024/2835, Annex I).
#: ``KEYWORD_OTHER`` goes with any category; a keyword listed under no category
#: (``KEYWORD_STALKING``, kept by the database from version 1) is not restricted.
KEYWORDS_BY_CATEGORY: Final[dict[str, tuple[str, ...]]] = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": ("KEYWORD_ANIMAL_HARM", "KEYWORD_UNLAWFUL_SALE_ANIMALS"),
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION": (
        "KEYWORD_HIDDEN_ADVERTISEMENT",
        "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
        "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
        "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
        "KEYWORD_NONCOMPLIANCE_PRICING",
    ),
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": (
        "KEYWORD_CYBER_BULLYING_INTIMIDATION",
        "KEYWORD_CYBER_HARASSMENT",
        "KEYWORD_CYBER_INCITEMENT",
        "KEYWORD_CYBER_STALKING",
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    ),
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": (
        "KEYWORD_BULLYING_AGAINST_GIRLS",
        "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
        "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
        "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
        "KEYWORD_INCITEMENT_AGAINST_WOMEN",
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
    ),
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS": (
        "KEYWORD_BIOMETRIC_DATA_BREACH",
        "KEYWORD_DATA_FALSIFICATION",
        "KEYWORD_MISSING_PROCESSING_GROUND",
        "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
    ),
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": (
        "KEYWORD_DEFAMATION",
        "KEYWORD_DISCRIMINATION",
        "KEYWORD_HATE_SPEECH",
    ),
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": (
        "KEYWORD_COPYRIGHT_INFRINGEMENT",
        "KEYWORD_DESIGN_INFRINGEMENT",
        "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
        "KEYWORD_PATENT_INFRINGEMENT",
        "KEYWORD_TRADE_SECRET_INFRINGEMENT",
        "KEYWORD_TRADEMARK_INFRINGEMENT",
    ),
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": (
        "KEYWORD_MISINFORMATION_DISINFORMATION",
        "KEYWORD_VIOLATION_EU_LAW",
        "KEYWORD_VIOLATION_NATIONAL_LAW",
    ),
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE": (),
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": (
        "KEYWORD_ADULT_SEXUAL_MATERIAL",
        "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
        "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
        "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
        "KEYWORD_LANGUAGE_REQUIREMENTS",
        "KEYWORD_NUDITY",
    ),
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": (
        "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
        "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
        "KEYWORD_UNSAFE_CHALLENGES",
    ),
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": (
        "KEYWORD_ILLEGAL_ORGANIZATIONS",
        "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
        "KEYWORD_RISK_PUBLIC_HEALTH",
        "KEYWORD_TERRORIST_CONTENT",
    ),
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": (
        "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
        "KEYWORD_INAUTHENTIC_ACCOUNTS",
        "KEYWORD_INAUTHENTIC_LISTINGS",
        "KEYWORD_INAUTHENTIC_USER_REVIEWS",
        "KEYWORD_PHISHING",
        "KEYWORD_PYRAMID_SCHEMES",
    ),
    "STATEMENT_CATEGORY_SELF_HARM": (
        "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
        "KEYWORD_SELF_MUTILATION",
        "KEYWORD_SUICIDE",
    ),
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS": (
        "KEYWORD_PROHIBITED_PRODUCTS",
        "KEYWORD_UNSAFE_PRODUCTS",
    ),
    "STATEMENT_CATEGORY_VIOLENCE": (
        "KEYWORD_COORDINATED_HARM",
        "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
        "KEYWORD_HUMAN_EXPLOITATION",
        "KEYWORD_HUMAN_TRAFFICKING",
        "KEYWORD_TRAFFICKING_WOMEN_GIRLS",
    ),
}

#: ``territorial_scope``: EU member states and the other EEA states (ISO 3166-1 alpha-2;
#: Greece is ``GR``, as the database writes it).
EU_COUNTRY_CODES: Final[tuple[str, ...]] = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip
EEA_COUNTRY_CODES: Final[tuple[str, ...]] = (*EU_COUNTRY_CODES, "IS", "LI", "NO")

#: Free-text limits (characters).
TEXT_LIMITS: Final[dict[str, int]] = {
    "decision_visibility_other": 500,
    "decision_monetary_other": 500,
    "decision_facts": 5000,
    "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000,
    "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000,
    "content_type_other": 500,
    "category_specification_other": 500,
    "source_identity": 500,
    "puid": 500,
}

#: Every field a statement may carry, and whether it is a list.
FIELDS: Final[dict[str, bool]] = {
    "decision_visibility": True,
    "decision_visibility_other": False,
    "end_date_visibility_restriction": False,
    "decision_monetary": False,
    "decision_monetary_other": False,
    "end_date_monetary_restriction": False,
    "decision_provision": False,
    "end_date_service_restriction": False,
    "decision_account": False,
    "end_date_account_restriction": False,
    "account_type": False,
    "decision_ground": False,
    "decision_ground_reference_url": False,
    "illegal_content_legal_ground": False,
    "illegal_content_explanation": False,
    "incompatible_content_ground": False,
    "incompatible_content_explanation": False,
    "incompatible_content_illegal": False,
    "content_type": True,
    "content_type_other": False,
    "category": False,
    "category_addition": True,
    "category_specification": True,
    "category_specification_other": False,
    "content_id": False,
    "territorial_scope": True,
    "content_language": False,
    "content_date": False,
    "application_date": False,
    "decision_facts": False,
    "source_type": False,
    "source_identity": False,
    "automated_detection": False,
    "automated_decision": False,
    "puid": False,
}

REQUIRED_FIELDS: Final[tuple[str, ...]] = (
    "decision_ground",
    "content_type",
    "category",
    "territorial_scope",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
)
#: At least one of these restrictions must be given.
RESTRICTION_FIELDS: Final[tuple[str, ...]] = (
    "decision_visibility",
    "decision_monetary",
    "decision_provision",
    "decision_account",
)

_ENUMS: Final[dict[str, Sequence[str]]] = {
    "decision_visibility": tuple(DECISION_VISIBILITIES),
    "decision_monetary": tuple(DECISION_MONETARIES),
    "decision_provision": tuple(DECISION_PROVISIONS),
    "decision_account": tuple(DECISION_ACCOUNTS),
    "account_type": tuple(ACCOUNT_TYPES),
    "decision_ground": tuple(DECISION_GROUNDS),
    "incompatible_content_illegal": YES_NO,
    "content_type": tuple(CONTENT_TYPES),
    "category": tuple(STATEMENT_CATEGORIES),
    "category_addition": tuple(STATEMENT_CATEGORIES),
    "category_specification": tuple(CATEGORY_SPECIFICATIONS),
    "territorial_scope": EEA_COUNTRY_CODES,
    "source_type": tuple(SOURCE_TYPES),
    "automated_detection": YES_NO,
    "automated_decision": tuple(AUTOMATED_DECISIONS),
}

_DATE_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PUID_RE: Final = re.compile(r"^[A-Za-z0-9_-]+$")
_LANGUAGE_RE: Final = re.compile(r"^[A-Z]{2}$")
_URL_RE: Final = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_EAN13_RE: Final = re.compile(r"^\d{13}$")
_EARLIEST_CONTENT_DATE: Final = date(2000, 1, 1)
_EARLIEST_APPLICATION_DATE: Final = date(2020, 1, 1)
_END_DATES: Final[tuple[str, ...]] = (
    "end_date_visibility_restriction",
    "end_date_monetary_restriction",
    "end_date_service_restriction",
    "end_date_account_restriction",
)


def categories_for_keyword(keyword: str) -> tuple[str, ...]:
    """The categories a keyword belongs to (empty: unrestricted)."""
    return tuple(
        category for category, keywords in KEYWORDS_BY_CATEGORY.items() if keyword in keywords
    )


def keyword_fits(category: str, keyword: str) -> bool:
    """Whether ``keyword`` may specify ``category`` (``KEYWORD_OTHER`` fits any)."""
    if keyword == KEYWORD_OTHER:
        return True
    owners = categories_for_keyword(keyword)
    return not owners or category in owners


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def validate_statement(statement: Mapping[str, Any]) -> list[str]:
    """Every problem of a statement of reasons, as sentences naming the field; [] if valid.

    Checks the field names, the required and conditionally required fields, the allowed
    values of every enumerated field, list and text types, text limits, dates and the
    platform identifier, as the Transparency Database API (version 2) does. A ``None``
    value counts as absent.
    """
    problems: list[str] = []
    if not isinstance(statement, Mapping):
        return ["A statement must be a JSON object."]
    for name in statement:
        if name not in FIELDS:
            problems.append(f"{name}: unknown field.")
    values = {name: value for name, value in statement.items() if name in FIELDS}

    for name in REQUIRED_FIELDS:
        if not _present(values.get(name)):
            problems.append(f"{name}: required.")
    if not any(_present(values.get(name)) for name in RESTRICTION_FIELDS):
        problems.append(
            "decision_visibility: required when none of decision_monetary, "
            "decision_provision, decision_account is given."
        )

    for name, is_list in FIELDS.items():
        value = values.get(name)
        if not _present(value):
            continue
        if is_list:
            if not isinstance(value, list):
                problems.append(f"{name}: must be a list.")
                continue
            if len(set(map(str, value))) != len(value):
                problems.append(f"{name}: values are repeated.")
            items = value
        elif name == "content_id":
            items = []
        else:
            if not isinstance(value, str):
                problems.append(f"{name}: must be a string.")
                continue
            items = [value]
        allowed = _ENUMS.get(name)
        if allowed is not None:
            for item in items:
                if item not in allowed:
                    problems.append(f"{name}: {item!r} is not an allowed value.")
        limit = TEXT_LIMITS.get(name)
        if limit is not None and isinstance(value, str) and len(value) > limit:
            problems.append(f"{name}: longer than {limit} characters ({len(value)}).")

    problems.extend(_conditional_problems(values))
    problems.extend(_format_problems(values))
    return problems


def _conditional_problems(values: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []

    def listed(name: str) -> list[Any]:
        value = values.get(name)
        return value if isinstance(value, list) else []

    ground = values.get("decision_ground")
    if ground == DECISION_GROUND_ILLEGAL:
        for name in ("illegal_content_legal_ground", "illegal_content_explanation"):
            if not _present(values.get(name)):
                problems.append(f"{name}: required when decision_ground is {ground}.")
    elif ground == DECISION_GROUND_INCOMPATIBLE:
        for name in ("incompatible_content_ground", "incompatible_content_explanation"):
            if not _present(values.get(name)):
                problems.append(f"{name}: required when decision_ground is {ground}.")
    if "DECISION_VISIBILITY_OTHER" in listed("decision_visibility") and not _present(
        values.get("decision_visibility_other")
    ):
        problems.append(
            "decision_visibility_other: required when decision_visibility includes "
            "DECISION_VISIBILITY_OTHER."
        )
    if values.get("decision_monetary") == "DECISION_MONETARY_OTHER" and not _present(
        values.get("decision_monetary_other")
    ):
        problems.append(
            "decision_monetary_other: required when decision_monetary is DECISION_MONETARY_OTHER."
        )
    if "CONTENT_TYPE_OTHER" in listed("content_type") and not _present(
        values.get("content_type_other")
    ):
        problems.append(
            "content_type_other: required when content_type includes CONTENT_TYPE_OTHER."
        )
    category = values.get("category")
    if isinstance(category, str) and category in STATEMENT_CATEGORIES:
        categories = {category, *(c for c in listed("category_addition") if isinstance(c, str))}
        for keyword in listed("category_specification"):
            if not isinstance(keyword, str) or keyword not in CATEGORY_SPECIFICATIONS:
                continue
            if not any(keyword_fits(owner, keyword) for owner in categories):
                problems.append(
                    f"category_specification: {keyword} does not belong to "
                    f"{' or '.join(sorted(categories))}."
                )
    return problems


def _format_problems(values: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    dates: dict[str, date] = {}
    for name in ("content_date", "application_date", *_END_DATES):
        value = values.get(name)
        if not _present(value):
            continue
        parsed = _parse_date(value)
        if parsed is None:
            problems.append(f"{name}: must be a date written YYYY-MM-DD.")
        else:
            dates[name] = parsed
    if "content_date" in dates and dates["content_date"] < _EARLIEST_CONTENT_DATE:
        problems.append("content_date: must be on or after 2000-01-01.")
    if "application_date" in dates and dates["application_date"] < _EARLIEST_APPLICATION_DATE:
        problems.append("application_date: must be on or after 2020-01-01.")
    for name in _END_DATES:
        if (
            name in dates
            and "application_date" in dates
            and dates[name] < dates["application_date"]
        ):
            problems.append(f"{name}: must be on or after application_date.")

    puid = values.get("puid")
    if isinstance(puid, str) and puid and not _PUID_RE.match(puid):
        problems.append("puid: only letters, digits, hyphens and underscores are allowed.")
    language = values.get("content_language")
    if _present(language) and not (isinstance(language, str) and _LANGUAGE_RE.match(language)):
        problems.append("content_language: must be an upper-case ISO 639-1 code such as FR.")
    url = values.get("decision_ground_reference_url")
    if _present(url) and not (isinstance(url, str) and _URL_RE.match(url)):
        problems.append("decision_ground_reference_url: must be an http(s) URL.")
    content_id = values.get("content_id")
    if _present(content_id):
        if not isinstance(content_id, Mapping):
            problems.append('content_id: must be an object such as {"EAN-13": "…"}.')
        else:
            for key, identifier in content_id.items():
                if key != "EAN-13":
                    problems.append(f"content_id: {key!r} is not an accepted identifier.")
                elif not (isinstance(identifier, str) and _EAN13_RE.match(identifier)):
                    problems.append("content_id: an EAN-13 code is 13 digits.")
    return problems
