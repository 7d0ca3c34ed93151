from beffroi.analysis.language import detect_language


def test_detects_french_english_arabic() -> None:
    assert detect_language("Bonjour, à quelle heure ouvre la mairie samedi ?") == "fr"
    assert detect_language("Hello, when does the town hall open on Saturday?") == "en"
    assert detect_language("مرحبا، متى تفتح البلدية يوم السبت؟") == "ar"


def test_too_short_is_unknown() -> None:
    assert detect_language(" ok ") == ""
