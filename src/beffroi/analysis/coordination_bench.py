"""Synthetic benchmark of :mod:`beffroi.analysis.coordination`.

Background posts (random sentences over a Zipf-distributed pseudo-French vocabulary, random
accounts, times over a week, a third carrying a link, some links popular) are mixed with
injected campaigns of known members:

- **copies**: the same text by 3-15 accounts over up to two days, with case, punctuation,
  hashtag, mention and tracking-link variations that normalisation must absorb;
- **rewordings**: a text reworded by each of 3-15 accounts (1-3 edits: a word replaced,
  inserted or two words swapped);
- **co-link bursts**: 3-10 accounts posting the same link (with varying ``utm_*`` parameters)
  within 50 seconds, each with its own text;
- **translations**: one message of a fixed bank of 40 parallel sentences about local
  government (French, English, Spanish, Arabic; no translator offline) posted by 3-12
  accounts, each in one of the languages (all four from four accounts on), with a prefix
  ("URGENT :", "Please share:"...), a hashtag, an emoji, a mention or a tracking link.
  Each bank message makes at most one campaign. Drawn from their own random stream, so the
  rest of the corpus is the same with or without them.

``words="bank"`` replaces the pseudo-French vocabulary of the background, copies and
rewordings by the real words of the bank, each sentence in one language drawn uniformly
(words uniform too). The multilingual sentence encoder maps the Zipf pseudo-French sentences
close together (a fifth of random pairs at a cosine of 0.7 or more), which makes embedding
comparisons meaningless; the bank's word salads stay apart (none at 0.7), like real posts.

Reports, per family (text: copy + reworded + copost campaigns; link: colink campaigns),
post-level precision and recall, the share of injected campaigns recovered (80% of their
posts in one detected campaign) and the seconds spent detecting; translation campaigns are
left out of the text family and scored on their own, pairwise (precision: pairs of posts put
together with a translation post that belong to one injected campaign; recall: the injected
campaigns' pairs found together), first with the default detection (only same-language
copies join), then with ``translations=True`` on the text campaigns' posts (plus an optional
sample of background posts): the embedding step is quadratic in clusters, so it is not run
over the whole corpus.

``python -m beffroi.analysis.coordination_bench --items 100000``
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from beffroi.analysis.coordination import Campaign, Post, detect_coordination

__all__ = [
    "PARALLEL_MESSAGES",
    "SyntheticCorpus",
    "evaluate",
    "main",
    "pairwise_scores",
    "synthetic_corpus",
    "translation_subset",
]

_SYLLABLES = (
    "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo la le li lo lu ma me mi mo mu "
    "na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo "
    "ment tion eur ique ois ain elle ette"
).split()
LANGUAGES = ("fr", "en", "es", "ar")
#: One message per row, in French, English, Spanish and Arabic (written for this benchmark).
PARALLEL_MESSAGES: tuple[tuple[str, str, str, str], ...] = (
    (
        "Le conseil municipal a voté en douce la hausse de la taxe foncière, personne n'a été consulté",
        "The city council quietly voted to raise the property tax, nobody was consulted",
        "El pleno municipal aprobó a escondidas la subida del impuesto sobre bienes inmuebles, nadie fue consultado",
        "صوّت المجلس البلدي سرًا على رفع ضريبة العقارات ولم تتم استشارة أحد",
    ),
    (
        "La piscine municipale fermera tout l'été faute de maîtres-nageurs, encore une promesse non tenue",
        "The municipal swimming pool will close all summer for lack of lifeguards, another broken promise",
        "La piscina municipal cerrará todo el verano por falta de socorristas, otra promesa incumplida",
        "سيُغلق المسبح البلدي طوال الصيف بسبب نقص المنقذين، وعد آخر لم يتم الوفاء به",
    ),
    (
        "Le maire a dépensé deux millions d'euros pour rénover son propre bureau pendant que les écoles tombent en ruine",
        "The mayor spent two million euros renovating his own office while the schools are falling apart",
        "El alcalde gastó dos millones de euros en reformar su propio despacho mientras las escuelas se caen a pedazos",
        "أنفق رئيس البلدية مليوني يورو لتجديد مكتبه الخاص بينما المدارس تنهار",
    ),
    (
        "Les bus de nuit seront supprimés dès janvier, les travailleurs de nuit n'ont qu'à marcher",
        "Night buses will be cancelled from January, night workers will just have to walk",
        "Los autobuses nocturnos se suprimirán a partir de enero, los trabajadores nocturnos tendrán que caminar",
        "سيتم إلغاء الحافلات الليلية ابتداءً من يناير، وعلى عمال الليل أن يمشوا",
    ),
    (
        "Vaccination gratuite contre la grippe au centre de santé municipal tous les mardis matin",
        "Free flu vaccination at the municipal health centre every Tuesday morning",
        "Vacunación gratuita contra la gripe en el centro de salud municipal todos los martes por la mañana",
        "تطعيم مجاني ضد الإنفلونزا في المركز الصحي البلدي كل صباح ثلاثاء",
    ),
    (
        "La préfecture cache les vrais chiffres de la pollution de l'eau du robinet dans notre commune",
        "The prefecture is hiding the real figures on tap water pollution in our town",
        "La prefectura oculta las cifras reales de la contaminación del agua del grifo en nuestro municipio",
        "تُخفي المحافظة الأرقام الحقيقية لتلوث مياه الصنبور في بلدتنا",
    ),
    (
        "Les élections municipales ont été truquées, des bulletins ont disparu dans trois bureaux de vote",
        "The municipal elections were rigged, ballots disappeared from three polling stations",
        "Las elecciones municipales fueron amañadas, desaparecieron papeletas en tres colegios electorales",
        "تم تزوير الانتخابات البلدية، واختفت أوراق اقتراع من ثلاثة مكاتب تصويت",
    ),
    (
        "La cantine scolaire servira désormais des repas cent pour cent bio sans augmentation de prix",
        "The school canteen will now serve fully organic meals with no price increase",
        "El comedor escolar servirá a partir de ahora comidas cien por cien ecológicas sin subir el precio",
        "سيقدم مطعم المدرسة من الآن وجبات عضوية بالكامل دون أي زيادة في السعر",
    ),
    (
        "Un centre pour migrants va ouvrir à côté de l'école primaire sans aucune concertation avec les parents",
        "A migrant centre is going to open next to the primary school without any consultation with parents",
        "Un centro para migrantes va a abrir junto a la escuela primaria sin ninguna consulta con los padres",
        "سيُفتح مركز للمهاجرين بجوار المدرسة الابتدائية دون أي تشاور مع الأهالي",
    ),
    (
        "Les travaux du tramway vont durer trois ans de plus et coûter le double de ce qui était prévu",
        "The tramway works will last three more years and cost twice as much as planned",
        "Las obras del tranvía durarán tres años más y costarán el doble de lo previsto",
        "ستستمر أشغال الترامواي ثلاث سنوات إضافية وستكلف ضعف ما كان مقررًا",
    ),
    (
        "La bibliothèque municipale va être vendue à un promoteur immobilier pour construire des bureaux",
        "The public library is going to be sold to a property developer to build offices",
        "La biblioteca municipal va a ser vendida a un promotor inmobiliario para construir oficinas",
        "ستُباع المكتبة البلدية لمطوّر عقاري لبناء مكاتب",
    ),
    (
        "Inscrivez-vous sur les listes électorales avant le 31 mars pour pouvoir voter aux prochaines élections",
        "Register on the electoral roll before 31 March to be able to vote in the next elections",
        "Inscríbete en el censo electoral antes del 31 de marzo para poder votar en las próximas elecciones",
        "سجّلوا في القوائم الانتخابية قبل 31 مارس لتتمكنوا من التصويت في الانتخابات القادمة",
    ),
    (
        "Le budget de la police municipale a été réduit de moitié alors que les cambriolages explosent",
        "The municipal police budget has been cut in half while burglaries are soaring",
        "El presupuesto de la policía municipal se ha reducido a la mitad mientras los robos en viviendas se disparan",
        "تم تخفيض ميزانية الشرطة البلدية إلى النصف بينما تتزايد عمليات السطو بشكل كبير",
    ),
    (
        "Les poubelles ne sont plus ramassées depuis deux semaines dans le quartier nord, la mairie ne répond pas",
        "Rubbish has not been collected for two weeks in the north district and the town hall does not answer",
        "La basura no se recoge desde hace dos semanas en el barrio norte y el ayuntamiento no responde",
        "لم يتم جمع القمامة منذ أسبوعين في الحي الشمالي والبلدية لا ترد",
    ),
    (
        "Le parc des sports va être rasé pour construire un centre commercial géant",
        "The sports ground is going to be demolished to build a giant shopping centre",
        "El polideportivo va a ser derribado para construir un centro comercial gigante",
        "سيُهدم الملعب الرياضي لبناء مركز تجاري ضخم",
    ),
    (
        "L'adjoint à l'urbanisme a attribué les marchés publics à l'entreprise de son beau-frère",
        "The deputy mayor for planning awarded the public contracts to his brother-in-law's company",
        "El concejal de urbanismo adjudicó los contratos públicos a la empresa de su cuñado",
        "منح نائب رئيس البلدية المكلف بالتعمير الصفقات العمومية لشركة صهره",
    ),
    (
        "Les tarifs de l'eau augmenteront de quarante pour cent au premier janvier, partagez massivement",
        "Water rates will go up by forty percent on the first of January, share widely",
        "Las tarifas del agua subirán un cuarenta por ciento el uno de enero, compartid masivamente",
        "سترتفع أسعار المياه بنسبة أربعين بالمئة في الأول من يناير، انشروا على نطاق واسع",
    ),
    (
        "La réunion publique sur le nouveau plan de circulation aura lieu jeudi à dix-huit heures à la salle des fêtes",
        "The public meeting on the new traffic plan will take place on Thursday at six pm in the village hall",
        "La reunión pública sobre el nuevo plan de tráfico tendrá lugar el jueves a las seis de la tarde en el salón de actos",
        "سيُعقد الاجتماع العام حول مخطط السير الجديد يوم الخميس على الساعة السادسة مساءً في قاعة الحفلات",
    ),
    (
        "Des caméras de reconnaissance faciale ont été installées en secret dans le centre-ville",
        "Facial recognition cameras have been secretly installed in the town centre",
        "Se han instalado en secreto cámaras de reconocimiento facial en el centro de la ciudad",
        "تم تركيب كاميرات للتعرف على الوجوه سرًا في وسط المدينة",
    ),
    (
        "La maternité de l'hôpital local va fermer, les femmes devront accoucher à une heure de route",
        "The local hospital's maternity ward is closing, women will have to give birth an hour's drive away",
        "La maternidad del hospital local va a cerrar, las mujeres tendrán que dar a luz a una hora de carretera",
        "سيُغلق قسم الولادة في المستشفى المحلي، وسيتعين على النساء الولادة على بعد ساعة بالسيارة",
    ),
    (
        "Le maire refuse de débattre avec l'opposition et a annulé le conseil municipal de ce soir",
        "The mayor refuses to debate the opposition and has cancelled tonight's council meeting",
        "El alcalde se niega a debatir con la oposición y ha cancelado el pleno municipal de esta noche",
        "يرفض رئيس البلدية مناظرة المعارضة وألغى اجتماع المجلس البلدي لهذا المساء",
    ),
    (
        "Les éoliennes prévues sur la colline feront chuter le prix de toutes les maisons du village",
        "The wind turbines planned on the hill will make the price of every house in the village collapse",
        "Los aerogeneradores previstos en la colina harán caer el precio de todas las casas del pueblo",
        "ستؤدي توربينات الرياح المزمع إنشاؤها على التلة إلى انهيار أسعار جميع منازل القرية",
    ),
    (
        "Aide exceptionnelle de la commune pour payer le chauffage des retraités, le dossier est à déposer en mairie",
        "Special help from the town to pay pensioners' heating bills, apply at the town hall",
        "Ayuda excepcional del municipio para pagar la calefacción de los jubilados, la solicitud se presenta en el ayuntamiento",
        "مساعدة استثنائية من البلدية لدفع فواتير تدفئة المتقاعدين، ويُودع الملف في مقر البلدية",
    ),
    (
        "Le pont de la rivière est fissuré depuis des mois et la mairie laisse passer les camions",
        "The river bridge has been cracked for months and the town hall still lets lorries cross it",
        "El puente del río lleva meses agrietado y el ayuntamiento sigue dejando pasar a los camiones",
        "الجسر فوق النهر متصدع منذ أشهر والبلدية لا تزال تسمح بمرور الشاحنات",
    ),
    (
        "Les crèches municipales réduisent leurs horaires, impossible de travailler à plein temps pour les parents",
        "Council nurseries are cutting their opening hours, parents can no longer work full time",
        "Las guarderías municipales reducen su horario, los padres ya no pueden trabajar a jornada completa",
        "تقلّص دور الحضانة البلدية ساعات عملها، ولم يعد بإمكان الآباء العمل بدوام كامل",
    ),
    (
        "Le festival de musique de l'été est annulé car la mairie a vidé les caisses de la culture",
        "The summer music festival is cancelled because the town hall emptied the culture budget",
        "El festival de música de verano se cancela porque el ayuntamiento ha vaciado las arcas de cultura",
        "أُلغي مهرجان الموسيقى الصيفي لأن البلدية أفرغت ميزانية الثقافة",
    ),
    (
        "Attention, de faux agents municipaux font du porte-à-porte pour vérifier les compteurs, n'ouvrez pas",
        "Warning, fake council officers are going door to door to check meters, do not open the door",
        "Atención, falsos empleados municipales van puerta por puerta para revisar los contadores, no abráis",
        "تحذير، موظفون بلديون مزيفون يطرقون الأبواب بحجة فحص العدادات، لا تفتحوا لهم",
    ),
    (
        "La nouvelle zone à faibles émissions interdira l'entrée en ville à la moitié des voitures des habitants",
        "The new low emission zone will ban half of the residents' cars from entering the city",
        "La nueva zona de bajas emisiones prohibirá la entrada en la ciudad a la mitad de los coches de los vecinos",
        "ستمنع المنطقة الجديدة منخفضة الانبعاثات نصف سيارات السكان من دخول المدينة",
    ),
    (
        "Le budget participatif est ouvert, proposez vos projets pour le quartier avant la fin du mois",
        "The participatory budget is open, submit your projects for the neighbourhood before the end of the month",
        "El presupuesto participativo está abierto, presentad vuestros proyectos para el barrio antes de fin de mes",
        "الميزانية التشاركية مفتوحة، قدّموا مشاريعكم للحي قبل نهاية الشهر",
    ),
    (
        "Les logements sociaux neufs ont été attribués en priorité aux amis de la majorité municipale",
        "The new social housing flats were given first to friends of the ruling council majority",
        "Las nuevas viviendas sociales se adjudicaron primero a los amigos de la mayoría municipal",
        "تم منح المساكن الاجتماعية الجديدة بالأولوية لأصدقاء الأغلبية البلدية",
    ),
    (
        "La fibre optique ne sera jamais installée dans les hameaux, la communauté de communes a abandonné le projet",
        "Fibre broadband will never reach the hamlets, the district council has dropped the project",
        "La fibra óptica nunca llegará a las aldeas, la mancomunidad ha abandonado el proyecto",
        "لن تصل الألياف البصرية أبدًا إلى القرى الصغيرة، فقد تخلى اتحاد البلديات عن المشروع",
    ),
    (
        "Le marché du dimanche va déménager sur le parking de la gare à partir du mois prochain",
        "The Sunday market will move to the station car park from next month",
        "El mercadillo del domingo se trasladará al aparcamiento de la estación a partir del mes que viene",
        "سينتقل سوق الأحد إلى موقف سيارات المحطة ابتداءً من الشهر المقبل",
    ),
    (
        "Les arbres centenaires de l'avenue vont être abattus pour élargir la route, signez la pétition",
        "The hundred-year-old trees on the avenue are going to be cut down to widen the road, sign the petition",
        "Los árboles centenarios de la avenida van a ser talados para ensanchar la carretera, firmad la petición",
        "ستُقطع الأشجار المعمرة في الشارع لتوسيع الطريق، وقّعوا على العريضة",
    ),
    (
        "La mairie a fermé le foyer pour sans-abri en plein hiver, des dizaines de personnes dorment dehors",
        "The town hall closed the homeless shelter in the middle of winter, dozens of people are sleeping outside",
        "El ayuntamiento cerró el albergue para personas sin hogar en pleno invierno, decenas de personas duermen en la calle",
        "أغلقت البلدية مأوى المشردين في عز الشتاء، وعشرات الأشخاص ينامون في العراء",
    ),
    (
        "Le stationnement deviendra payant dans toutes les rues du centre, même le dimanche",
        "Parking will become paid on every street in the centre, even on Sundays",
        "El aparcamiento será de pago en todas las calles del centro, incluso los domingos",
        "سيصبح ركن السيارات بمقابل في جميع شوارع الوسط، حتى أيام الأحد",
    ),
    (
        "Un élu de l'opposition a été menacé de mort après avoir dénoncé la gestion de l'office HLM",
        "An opposition councillor received death threats after denouncing the management of the housing office",
        "Un concejal de la oposición recibió amenazas de muerte tras denunciar la gestión de la oficina de vivienda",
        "تلقى مستشار من المعارضة تهديدات بالقتل بعد أن ندد بتسيير مكتب السكن",
    ),
    (
        "La déchetterie sera fermée le samedi, les dépôts sauvages vont se multiplier dans la forêt",
        "The recycling centre will be closed on Saturdays, fly-tipping in the forest is going to multiply",
        "El punto limpio cerrará los sábados, los vertidos ilegales en el bosque se van a multiplicar",
        "سيُغلق مركز النفايات أيام السبت، وستتكاثر المكبات العشوائية في الغابة",
    ),
    (
        "Les impôts locaux financent la nouvelle voiture de fonction du président de la région",
        "Local taxes are paying for the regional president's new official car",
        "Los impuestos locales pagan el nuevo coche oficial del presidente de la región",
        "الضرائب المحلية تموّل سيارة الخدمة الجديدة لرئيس الجهة",
    ),
    (
        "Inondations : la commune avait été prévenue du risque depuis dix ans et n'a rien fait",
        "Floods: the town had been warned about the risk for ten years and did nothing",
        "Inundaciones: el municipio estaba avisado del riesgo desde hace diez años y no hizo nada",
        "فيضانات: تم تحذير البلدية من الخطر منذ عشر سنوات ولم تفعل شيئًا",
    ),
    (
        "Le collège du quartier perdra trois classes à la rentrée, les parents appellent à bloquer l'entrée lundi",
        "The neighbourhood secondary school will lose three classes in September, parents are calling to block the entrance on Monday",
        "El instituto del barrio perderá tres aulas el próximo curso, los padres convocan a bloquear la entrada el lunes",
        "ستفقد الإعدادية في الحي ثلاثة أقسام عند الدخول المدرسي، ويدعو الأهالي إلى إغلاق المدخل يوم الاثنين",
    ),
)
_PREFIXES = {
    "fr": ("URGENT :", "À partager :", "Lisez ça :", "Incroyable :"),
    "en": ("URGENT:", "Please share:", "Read this:", "Unbelievable:"),
    "es": ("URGENTE:", "Compartid:", "Leed esto:", "Increíble:"),
    "ar": ("عاجل:", "انشروا:", "اقرأوا هذا:", "لا يصدق:"),
}
_HASHTAGS = {
    "fr": ("#mairie", "#conseilmunicipal", "#Lyon", "#Marseille"),
    "en": ("#townhall", "#localpolitics", "#Lyon", "#Marseille"),
    "es": ("#ayuntamiento", "#politicalocal", "#Lyon", "#Marsella"),
    "ar": ("#البلدية", "#السياسة_المحلية", "#ليون", "#مرسيليا"),
}
_START = datetime(2026, 3, 1, tzinfo=UTC)
_WEEK = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class SyntheticCorpus:
    """Posts and the ground truth: post id -> (family, campaign number)."""

    posts: list[Post]
    truth: dict[str, tuple[str, int]]
    campaigns: dict[tuple[str, int], set[str]]


def _vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        n = int(rng.integers(1, 4))
        words.add("".join(_SYLLABLES[int(i)] for i in rng.integers(0, len(_SYLLABLES), n)))
    ordered = sorted(words)
    return [ordered[int(i)] for i in rng.permutation(len(ordered))]


def _bank_vocabularies() -> dict[str, list[str]]:
    return {
        lang: sorted({w for row in PARALLEL_MESSAGES for w in re.findall(r"\w+", row[k].lower())})
        for k, lang in enumerate(LANGUAGES)
    }


def synthetic_corpus(
    items: int,
    *,
    seed: int = 0,
    campaign_share: float = 0.02,
    translation_campaigns: int | None = None,
    words: str = "pseudo",
) -> SyntheticCorpus:
    """About ``items`` posts, ``campaign_share`` of them in injected copy, rewording and
    co-link campaigns, plus ``translation_campaigns`` translation campaigns (default
    ``items // 2000``, between 2 and the 40 bank messages; 0 for none). ``words``:
    ``"pseudo"`` (Zipf pseudo-French) or ``"bank"`` (the bank's real words, see the module)."""
    if words not in ("pseudo", "bank"):
        raise ValueError("words must be 'pseudo' or 'bank'")
    rng = np.random.default_rng(seed)
    vocab = _vocabulary(rng, 20_000)
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05
    weights /= weights.sum()
    n_accounts = max(50, items // 8)
    bank_words = _bank_vocabularies() if words == "bank" else {}
    language = [""]  # language of the last sentence drawn

    def sentence(lo: int = 8, hi: int = 30) -> list[str]:
        n = int(rng.integers(lo, hi))
        if bank_words:
            language[0] = LANGUAGES[int(rng.integers(0, len(LANGUAGES)))]
            pool = bank_words[language[0]]
            return [pool[int(i)] for i in rng.integers(0, len(pool), n)]
        return [vocab[int(i)] for i in rng.choice(len(vocab), size=n, p=weights)]

    def replacement() -> str:
        if bank_words:
            pool = bank_words[language[0]]
            return pool[int(rng.integers(0, len(pool)))]
        return vocab[int(rng.choice(len(vocab), p=weights))]

    posts: list[Post] = []
    truth: dict[str, tuple[str, int]] = {}
    campaigns: dict[tuple[str, int], set[str]] = {}

    def add(
        account: int,
        text: str,
        at: float,
        urls: tuple[str, ...] = (),
        label: tuple[str, int] | None = None,
        lang: str = "",
    ) -> None:
        pid = f"p{len(posts)}"
        posts.append(Post(pid, f"acc{account}", text, _START + timedelta(seconds=at), urls, lang))
        if label is not None:
            truth[pid] = label
            campaigns.setdefault(label, set()).add(pid)

    n_injected = int(items * campaign_share)
    per_family = n_injected // 3
    # background: bulk-generate word indices for speed
    n_background = items - n_injected
    lengths = rng.integers(6, 30, n_background)
    if bank_words:
        background = []
        for n in lengths.tolist():
            lang = LANGUAGES[int(rng.integers(0, len(LANGUAGES)))]
            pool = bank_words[lang]
            background.append((" ".join(pool[int(i)] for i in rng.integers(0, len(pool), n)), lang))
    else:
        chunks = np.split(
            rng.choice(len(vocab), size=int(lengths.sum()), p=weights), np.cumsum(lengths)[:-1]
        )
        background = [(" ".join(vocab[int(w)] for w in chunk), "") for chunk in chunks]
    accounts = rng.integers(0, n_accounts, n_background)
    times = rng.uniform(0, _WEEK, n_background)
    has_url = rng.random(n_background) < 0.3
    popular = rng.random(n_background) < 0.05
    url_ids = np.where(
        popular,
        rng.integers(0, 200, n_background),
        rng.integers(0, max(1, items // 3), n_background),
    )
    for k, (text, lang) in enumerate(background):
        urls: tuple[str, ...] = ()
        if has_url[k]:
            urls = (f"https://news{int(url_ids[k]) % 50}.example/a/{int(url_ids[k])}",)
        add(int(accounts[k]), text, float(times[k]), urls, lang=lang)

    def variant(text: str) -> str:
        roll = rng.random()
        if roll < 0.25:
            return text.upper()
        if roll < 0.5:
            return text + " !!"
        if roll < 0.7:
            return f"@acc{int(rng.integers(0, n_accounts))} " + text
        if roll < 0.85:
            return "#" + text + " https://t.example/x?utm_source=" + str(int(rng.integers(0, 99)))
        return text.capitalize() + "."

    def reword(tokens: list[str]) -> str:
        out = list(tokens)
        for _ in range(int(rng.integers(1, 4))):
            op = rng.random()
            pos = int(rng.integers(0, len(out)))
            if op < 0.4:
                out[pos] = replacement()
            elif op < 0.7:
                out.insert(pos, replacement())
            elif pos + 1 < len(out):
                out[pos], out[pos + 1] = out[pos + 1], out[pos]
        return " ".join(out)

    def members(hi: int, generator: np.random.Generator = rng, lo: int = 3) -> list[int]:
        k = int(generator.integers(lo, hi + 1))
        return [int(a) for a in generator.choice(n_accounts, size=k, replace=False)]

    count, number = 0, 0
    while count < per_family:  # copies
        tokens = sentence(12, 30)
        start, spread = rng.uniform(0, _WEEK), rng.uniform(60, 48 * 3600)
        for acc in members(15):
            add(
                acc,
                variant(" ".join(tokens)),
                start + rng.uniform(0, spread),
                label=("text", number),
                lang=language[0],
            )
            count += 1
        number += 1
    count = 0
    while count < per_family:  # rewordings
        tokens = sentence(12, 30)
        start, spread = rng.uniform(0, _WEEK), rng.uniform(60, 48 * 3600)
        for acc in members(15):
            add(
                acc,
                reword(tokens),
                start + rng.uniform(0, spread),
                label=("text", number),
                lang=language[0],
            )
            count += 1
        number += 1
    count, burst = 0, 0
    while count < per_family:  # co-link bursts
        url = f"https://campaign{burst}.example/article/{burst}/"
        start = rng.uniform(0, _WEEK)
        for acc in members(10):
            tagged = f"{url}?utm_source=s{int(rng.integers(0, 9))}&utm_medium=social"
            text = " ".join(sentence())
            add(acc, text, start + rng.uniform(0, 50), (tagged,), ("link", burst), language[0])
            count += 1
        burst += 1
    order = rng.permutation(len(posts))
    n_base = len(posts)

    # translations, from their own stream: the posts above do not change with them
    trng = np.random.default_rng([seed, 1])
    if translation_campaigns is None:
        translation_campaigns = max(2, items // 2000)
    translation_campaigns = min(translation_campaigns, len(PARALLEL_MESSAGES))
    chosen = trng.permutation(len(PARALLEL_MESSAGES))[:translation_campaigns]

    def perturb(text: str, lang: str) -> str:
        roll = trng.random()
        if roll < 0.2:
            return text
        if roll < 0.4:
            return f"{_PREFIXES[lang][int(trng.integers(0, 4))]} {text}"
        if roll < 0.55:
            return f"{text} {_HASHTAGS[lang][int(trng.integers(0, 4))]}"
        if roll < 0.7:
            return f"\U0001f534 {text} !"
        if roll < 0.85:
            return f"@acc{int(trng.integers(0, n_accounts))} {text}"
        return f"{text} https://t.example/m?utm_source={int(trng.integers(0, 99))}"

    for number, message in enumerate(chosen.tolist()):
        start, spread = trng.uniform(0, _WEEK), trng.uniform(60, 48 * 3600)
        crew = members(12, trng)
        languages = [int(x) for x in trng.permutation(len(LANGUAGES))]
        languages += [int(x) for x in trng.integers(0, len(LANGUAGES), max(0, len(crew) - 4))]
        for acc, k in zip(crew, languages, strict=False):
            lang = LANGUAGES[k]
            text = perturb(PARALLEL_MESSAGES[message][k], lang)
            add(
                acc,
                text,
                start + trng.uniform(0, spread),
                label=("translation", number),
                lang=lang,
            )
    # translation posts at random places among the others
    where = np.concatenate(
        (
            np.arange(n_base, dtype=np.float64),
            trng.integers(0, n_base + 1, len(posts) - n_base) - 0.5,
        )
    )
    indices = np.concatenate((order, np.arange(n_base, len(posts))))
    final = indices[np.argsort(where, kind="stable")]
    return SyntheticCorpus([posts[int(i)] for i in final], truth, campaigns)


_FAMILY = {"copy": "text", "reworded": "text", "copost": "text", "colink": "link"}


def pairwise_scores(
    predicted: Iterable[Iterable[str]],
    reference: Iterable[Iterable[str]],
    focus: set[str] | None = None,
) -> dict[str, float]:
    """Pairwise precision and recall of a clustering of post ids against a reference one.

    A pair is two posts in one cluster. With ``focus``, only the pairs with at least one
    post in ``focus`` count. Posts in no cluster form no pair. Clusters should not overlap.
    """
    refs = [set(cluster) for cluster in reference]
    ref_of = {pid: number for number, members in enumerate(refs) for pid in members}

    def pairs(members: set[str]) -> int:
        """Pairs among ``members`` (with one in ``focus`` at least)."""
        n = len(members)
        if focus is None:
            return n * (n - 1) // 2
        inside = len(members & focus)
        return inside * (inside - 1) // 2 + inside * (n - inside)

    true_pairs = sum(pairs(members) for members in refs)
    found_pairs = 0
    correct = 0
    for cluster in predicted:
        members = set(cluster)
        found_pairs += pairs(members)
        by_reference: dict[int, set[str]] = {}
        for pid in members:
            ref = ref_of.get(pid)
            if ref is not None:
                by_reference.setdefault(ref, set()).add(pid)
        correct += sum(pairs(group) for group in by_reference.values())
    return {
        "precision": correct / found_pairs if found_pairs else 1.0,
        "recall": correct / true_pairs if true_pairs else 1.0,
        "pairs_found": float(found_pairs),
        "pairs_true": float(true_pairs),
    }


def evaluate(corpus: SyntheticCorpus, found: list[Campaign]) -> dict[str, dict[str, float]]:
    """Post-level precision/recall and campaign recovery per family (text, link), and the
    translations' pairwise scores.

    Posts of injected translation campaigns are left out of the text family (a detected
    campaign of same-language copies of a translation is neither right nor wrong there).
    """
    report: dict[str, dict[str, float]] = {}
    translated = {pid for pid, (fam, _) in corpus.truth.items() if fam == "translation"}
    for family in ("text", "link"):
        predicted: set[str] = set()
        detected = [c for c in found if _FAMILY[c.kind] == family]
        for c in detected:
            predicted.update(c.post_ids)
        predicted -= translated
        actual = {pid for pid, (fam, _) in corpus.truth.items() if fam == family}
        tp = len(predicted & actual)
        sets = [set(c.post_ids) for c in detected]
        injected = [ids for (fam, _), ids in corpus.campaigns.items() if fam == family]
        recovered = sum(1 for ids in injected if any(len(ids & s) >= 0.8 * len(ids) for s in sets))
        report[family] = {
            "precision": tp / len(predicted) if predicted else 1.0,
            "recall": tp / len(actual) if actual else 1.0,
            "campaigns_recovered": recovered / len(injected) if injected else 1.0,
            "detected_campaigns": float(len(detected)),
            "injected_campaigns": float(len(injected)),
        }
    # translations: copies and rewordings only (co-posts are a network of accounts)
    sets = [set(c.post_ids) for c in found if c.kind in ("copy", "reworded")]
    injected = [ids for (fam, _), ids in corpus.campaigns.items() if fam == "translation"]
    scores = pairwise_scores(sets, injected, focus=translated)
    recovered = sum(1 for ids in injected if any(len(ids & s) >= 0.8 * len(ids) for s in sets))
    in_campaigns = set().union(*sets) if sets else set()
    report["translation"] = {
        "precision": scores["precision"],
        "recall": scores["recall"],
        "post_recall": len(translated & in_campaigns) / len(translated) if translated else 1.0,
        "campaigns_recovered": recovered / len(injected) if injected else 1.0,
        "detected_campaigns": float(sum(1 for s in sets if s & translated)),
        "injected_campaigns": float(len(injected)),
    }
    return report


def translation_subset(corpus: SyntheticCorpus, background: int = 0, seed: int = 0) -> list[Post]:
    """The posts of the injected copy, rewording and translation campaigns, with
    ``background`` background posts drawn at random: the input of the translation run."""
    chosen = {pid for pid, (fam, _) in corpus.truth.items() if fam in ("text", "translation")}
    others = [p.id for p in corpus.posts if p.id not in corpus.truth]
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(others), size=min(background, len(others)), replace=False)
    chosen.update(others[int(i)] for i in picked)
    return [p for p in corpus.posts if p.id in chosen]


def _print_report(report: dict[str, dict[str, float]], families: Iterable[str]) -> None:
    for family in families:
        row = report[family]
        extra = f"  post recall {row['post_recall']:.3f}" if "post_recall" in row else ""
        kind = "pairwise " if family == "translation" else ""
        print(
            f"{family:11s} {kind}precision {row['precision']:.3f}  recall {row['recall']:.3f}  "
            f"campaigns recovered {row['campaigns_recovered']:.3f}{extra}  "
            f"({int(row['detected_campaigns'])} detected / {int(row['injected_campaigns'])} injected)"
        )


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threshold", type=float, default=0.65)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--words", choices=("pseudo", "bank"), default="pseudo")
    parser.add_argument(
        "--translation-threshold", type=float, default=0.7, help="cosine for translations"
    )
    parser.add_argument(
        "--translation-background",
        type=int,
        default=0,
        help="background posts added to the translation run (each one is embedded)",
    )
    parser.add_argument("--no-translations", action="store_true", help="skip the translation run")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    corpus = synthetic_corpus(args.items, seed=args.seed, words=args.words)
    t1 = time.perf_counter()
    found = detect_coordination(corpus.posts, threshold=args.threshold, n_jobs=args.n_jobs)
    t2 = time.perf_counter()
    print(f"posts: {len(corpus.posts)}  generated in {t1 - t0:.1f} s  detected in {t2 - t1:.1f} s")
    report = evaluate(corpus, found)
    _print_report(report, ("text", "link", "translation"))
    if args.no_translations:
        return
    subset = translation_subset(corpus, args.translation_background, args.seed)
    t3 = time.perf_counter()
    found = detect_coordination(
        subset,
        kinds=("copy", "reworded"),
        threshold=args.threshold,
        n_jobs=args.n_jobs,
        translations=True,
        translation_threshold=args.translation_threshold,
    )
    t4 = time.perf_counter()
    print(
        f"translations=True on {len(subset)} posts (text and translation campaigns, "
        f"{args.translation_background} background) in {t4 - t3:.1f} s"
    )
    report = evaluate(corpus, found)
    _print_report(report, ("translation",))
    text_sets = [set(c.post_ids) for c in found]
    text_truth = [ids for (fam, _), ids in corpus.campaigns.items() if fam == "text"]
    texts = {pid for pid, (fam, _) in corpus.truth.items() if fam == "text"}
    merged = pairwise_scores(text_sets, text_truth, focus=texts)
    print(
        f"copies and rewordings in that run: pairwise precision {merged['precision']:.3f}  "
        f"recall {merged['recall']:.3f}"
    )


if __name__ == "__main__":
    main()
