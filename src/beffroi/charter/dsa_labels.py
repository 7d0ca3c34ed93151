"""The DSA vocabulary (``charter.dsa``) in the reader's language.

``charter.dsa`` is plain Python and keeps the English labels of the Transparency Database
next to its codes, for the statements sent there; a person choosing or reading a category
sees these translated labels, never a raw code like ``STATEMENT_CATEGORY_VIOLENCE``.
``tests/charter/test_dsa_labels.py`` checks that every code has its label here.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

DECISION_GROUNDS: dict[str, Promise] = {
    "DECISION_GROUND_ILLEGAL_CONTENT": gettext_lazy("Illegal Content"),
    "DECISION_GROUND_INCOMPATIBLE_CONTENT": gettext_lazy(
        "Content incompatible with terms and conditions"
    ),
}

STATEMENT_CATEGORIES: dict[str, Promise] = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": gettext_lazy("Animal welfare"),
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION": gettext_lazy("Consumer information infringements"),
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": gettext_lazy("Cyber violence"),
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": gettext_lazy("Cyber violence against women"),
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS": gettext_lazy(
        "Data protection and privacy violations"
    ),
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": gettext_lazy("Illegal or harmful speech"),
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": gettext_lazy(
        "Intellectual property infringements"
    ),
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": gettext_lazy(
        "Negative effects on civic discourse or elections"
    ),
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE": gettext_lazy(
        "Type of alleged illegal content not specified by the notifier"
    ),
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": gettext_lazy(
        "Other violation of provider’s terms and conditions"
    ),
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": gettext_lazy("Protection of minors"),
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": gettext_lazy("Risk for public security"),
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": gettext_lazy("Scams and/or fraud"),
    "STATEMENT_CATEGORY_SELF_HARM": gettext_lazy("Self-harm"),
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS": gettext_lazy(
        "Unsafe, non-compliant or prohibited products"
    ),
    "STATEMENT_CATEGORY_VIOLENCE": gettext_lazy("Violence"),
}

CATEGORY_SPECIFICATIONS: dict[str, Promise] = {
    "KEYWORD_ANIMAL_HARM": gettext_lazy("Animal harm"),
    "KEYWORD_ADULT_SEXUAL_MATERIAL": gettext_lazy("Adult sexual material"),
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS": gettext_lazy("Age-specific restrictions"),
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS": gettext_lazy(
        "Age-specific restrictions concerning minors"
    ),
    "KEYWORD_BIOMETRIC_DATA_BREACH": gettext_lazy("Biometric data breach"),
    "KEYWORD_BULLYING_AGAINST_GIRLS": gettext_lazy("Cyber bullying and intimidation against girls"),
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL": gettext_lazy("Child sexual abuse material"),
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE": gettext_lazy(
        "Child sexual abuse material containing deepfake or similar technology"
    ),
    "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS": gettext_lazy(
        "Content promoting eating disorders"
    ),
    "KEYWORD_COORDINATED_HARM": gettext_lazy("Coordinated harm"),
    "KEYWORD_COPYRIGHT_INFRINGEMENT": gettext_lazy("Copyright infringements"),
    "KEYWORD_CYBER_BULLYING_INTIMIDATION": gettext_lazy("Cyber bullying and intimidation"),
    "KEYWORD_CYBER_HARASSMENT": gettext_lazy("Cyber harassment"),
    "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN": gettext_lazy("Cyber harassment against women"),
    "KEYWORD_CYBER_INCITEMENT": gettext_lazy("Cyber incitement to hatred or violence"),
    "KEYWORD_CYBER_STALKING": gettext_lazy("Cyber stalking"),
    "KEYWORD_CYBER_STALKING_AGAINST_WOMEN": gettext_lazy("Cyber stalking against women"),
    "KEYWORD_DATA_FALSIFICATION": gettext_lazy("Data falsification"),
    "KEYWORD_DEFAMATION": gettext_lazy("Defamation"),
    "KEYWORD_DESIGN_INFRINGEMENT": gettext_lazy("Design infringements"),
    "KEYWORD_DISCRIMINATION": gettext_lazy("Discrimination"),
    "KEYWORD_MISINFORMATION_DISINFORMATION": gettext_lazy(
        "Misinformation, disinformation, foreign information manipulation and interference"
    ),
    "KEYWORD_FEMALE_GENDERED_DISINFORMATION": gettext_lazy("Gendered disinformation"),
    "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT": gettext_lazy(
        "Geographic indications infringements"
    ),
    "KEYWORD_GEOGRAPHICAL_REQUIREMENTS": gettext_lazy("Geographical requirements"),
    "KEYWORD_GOODS_SERVICES_NOT_PERMITTED": gettext_lazy(
        "Goods/services not permitted to be offered on the platform"
    ),
    "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS": gettext_lazy(
        "Grooming/sexual enticement of minors"
    ),
    "KEYWORD_HATE_SPEECH": gettext_lazy(
        "Illegal incitement to violence and hatred based on protected characteristics (hate speech)"
    ),
    "KEYWORD_HIDDEN_ADVERTISEMENT": gettext_lazy(
        "Hidden advertisement or commercial communication, including by influencers"
    ),
    "KEYWORD_HUMAN_EXPLOITATION": gettext_lazy("Human exploitation"),
    "KEYWORD_HUMAN_TRAFFICKING": gettext_lazy("Human trafficking"),
    "KEYWORD_ILLEGAL_ORGANIZATIONS": gettext_lazy("Illegal organizations"),
    "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING": gettext_lazy("Impersonation or account hijacking"),
    "KEYWORD_INAUTHENTIC_ACCOUNTS": gettext_lazy("Inauthentic accounts"),
    "KEYWORD_INAUTHENTIC_LISTINGS": gettext_lazy("Inauthentic listings"),
    "KEYWORD_INAUTHENTIC_USER_REVIEWS": gettext_lazy("Inauthentic user reviews"),
    "KEYWORD_INCITEMENT_AGAINST_WOMEN": gettext_lazy(
        "Illegal incitement to violence and hatred against women"
    ),
    "KEYWORD_INCITEMENT_VIOLENCE_HATRED": gettext_lazy(
        "General calls or incitement to violence and/or hatred"
    ),
    "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS": gettext_lazy(
        "Insufficient information on traders"
    ),
    "KEYWORD_LANGUAGE_REQUIREMENTS": gettext_lazy("Language requirements"),
    "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS": gettext_lazy(
        "Misleading information about the consumer’s rights"
    ),
    "KEYWORD_MISLEADING_INFO_GOODS_SERVICES": gettext_lazy(
        "Misleading information about the characteristics of the goods and services"
    ),
    "KEYWORD_MISSING_PROCESSING_GROUND": gettext_lazy("Missing processing ground for data"),
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING": gettext_lazy(
        "Non-consensual (intimate) material sharing, including (image-based) sexual abuse (excluding content depicting minors)"
    ),
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN": gettext_lazy(
        "Non-consensual (intimate) material sharing against women, including (image-based) sexual abuse against women (excluding content depicting minors)"
    ),
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE": gettext_lazy(
        "Non-consensual sharing of material containing deepfake or similar technology using a third party's features (excluding content depicting minors)"
    ),
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN": gettext_lazy(
        "Non-consensual sharing of material containing deepfake or similar technology using a third party's features against women (excluding content depicting minors)"
    ),
    "KEYWORD_NONCOMPLIANCE_PRICING": gettext_lazy("Non-compliance with pricing regulations"),
    "KEYWORD_NUDITY": gettext_lazy("Nudity"),
    "KEYWORD_PATENT_INFRINGEMENT": gettext_lazy("Patent infringements"),
    "KEYWORD_PHISHING": gettext_lazy("Phishing"),
    "KEYWORD_PROHIBITED_PRODUCTS": gettext_lazy("Prohibited or restricted products"),
    "KEYWORD_PYRAMID_SCHEMES": gettext_lazy("Pyramid schemes"),
    "KEYWORD_RIGHT_TO_BE_FORGOTTEN": gettext_lazy("Right to be forgotten"),
    "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE": gettext_lazy("Risk for environmental damage"),
    "KEYWORD_RISK_PUBLIC_HEALTH": gettext_lazy("Risk for public health"),
    "KEYWORD_SELF_MUTILATION": gettext_lazy("Self-mutilation"),
    "KEYWORD_STALKING": gettext_lazy("Stalking"),
    "KEYWORD_SUICIDE": gettext_lazy("Suicide"),
    "KEYWORD_TERRORIST_CONTENT": gettext_lazy("Terrorist content"),
    "KEYWORD_TRADE_SECRET_INFRINGEMENT": gettext_lazy("Trade secret infringements"),
    "KEYWORD_TRADEMARK_INFRINGEMENT": gettext_lazy("Trademark infringements"),
    "KEYWORD_TRAFFICKING_WOMEN_GIRLS": gettext_lazy("Trafficking in women and girls"),
    "KEYWORD_UNLAWFUL_SALE_ANIMALS": gettext_lazy("Unlawful sale of animals"),
    "KEYWORD_UNSAFE_CHALLENGES": gettext_lazy("Unsafe challenges"),
    "KEYWORD_UNSAFE_PRODUCTS": gettext_lazy("Unsafe or non-compliant products"),
    "KEYWORD_VIOLATION_EU_LAW": gettext_lazy(
        "Violation of EU law relevant to civic discourse or elections"
    ),
    "KEYWORD_VIOLATION_NATIONAL_LAW": gettext_lazy(
        "Violation of national law relevant to civic discourse or elections"
    ),
    "KEYWORD_OTHER": gettext_lazy("Not captured by any other keyword"),
}


def label(code: str) -> str:
    """The label of any DSA code of these three lists, in the active language."""
    for labels in (DECISION_GROUNDS, STATEMENT_CATEGORIES, CATEGORY_SPECIFICATIONS):
        if code in labels:
            return str(labels[code])
    return code
