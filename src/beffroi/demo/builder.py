"""The builder of the demo town: :func:`build_demo_town`.

It casts the town's people, publishes the town's posts (``texts/announcements.yaml``), writes
the comments, replies, messages and mentions under and around them from the templates of
``texts/comments.yaml``, tells the three stories of the six weeks (a hoax, a copy-paste
campaign, an impersonator) and answers what the town would answer. The templates' slots
(streets, documents, days…) are filled by a seeded :class:`random.Random`, so the output is
identical, byte for byte, for the same ``now``; each item's payload is written by
:mod:`beffroi.demo.payloads`.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from beffroi.connectors.base import ItemKind, Media, NormalizedItem
from beffroi.demo import texts
from beffroi.demo.drafts import Account, Draft, DraftSource, Persona
from beffroi.demo.formats import TID_EPOCH, base32, digits, iso_z, tid, token
from beffroi.demo.payloads import raw_payload
from beffroi.demo.town import (
    CAMPAIGN_ID,
    HOAX_ID,
    IMPERSONATION_ID,
    MAYOR,
    MEDIA_HOST,
    TOWN_NAME,
    TOWN_SLUG,
    DemoIdentity,
    DemoLabel,
    DemoSource,
    DemoTown,
)

__all__ = ["DEMO_SEED", "build_demo_town"]

DEMO_SEED = 1789

#: What a moderator would do with an item of each category (see :class:`DemoLabel`).
_DEFAULT_ACTION = {
    "announcement": "keep",
    "question": "answer",
    "request": "answer",
    "praise": "keep",
    "criticism": "keep",
    "insult": "hide",
    "threat": "hide",
    "hate": "hide",
    "spam": "hide",
    "scam": "hide",
    "hoax": "review",
    "campaign": "review",
    "impersonation": "hide",
    "neutral": "keep",
}
#: Nothing can be hidden in a private inbox: a person looks at it (and reports it if need be).
_TOXIC = frozenset({"insult", "threat", "hate", "spam", "scam"})


# --- small helpers ----------------------------------------------------------------------------

_URL_RE = re.compile(r"https?://[^\s<>\"«»]+")


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _strip_accents(text: str) -> str:
    """Drop the accents of Latin letters only (``é`` → ``e``), as people typing fast do."""
    return "".join(
        _ascii(c) if c.isascii() or "LATIN" in unicodedata.name(c, "") else c for c in text
    )


def _slug(text: str, sep: str = ".") -> str:
    words = re.findall(r"[a-z0-9]+", _ascii(text).lower())
    return sep.join(words)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() else text


def _urls(text: str) -> tuple[str, ...]:
    found = (match.rstrip(".,;:!?)…") for match in _URL_RE.findall(text))
    return tuple(dict.fromkeys(found))


def _fr_date(day: date) -> str:
    number = "1er" if day.day == 1 else str(day.day)
    return f"{texts.WEEKDAYS[day.weekday()]} {number} {texts.MONTHS[day.month - 1]}"


def _working_day(day: date, n: int) -> date:
    """The ``n``-th working day (Monday to Friday) after ``day``."""
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _next_weekday(day: date, weekday: int, at_least: int) -> date:
    """The first ``weekday`` (0 is Monday) at least ``at_least`` days after ``day``."""
    day += timedelta(days=at_least)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _answer(text: str, lang: str) -> str:
    """The town's answer template that fits a question or a request."""
    plain = _ascii(text).casefold()
    for keywords, template in texts.ANSWERS["en" if lang == "en" else "fr"]:
        if any(keyword in plain for keyword in keywords):
            return template
    raise AssertionError("the last answer matches everything")


# --- the builder ------------------------------------------------------------------------------

_MASTODON = "https://mastodon.demo.invalid"
_FACEBOOK = "https://facebook.demo.invalid"
_INSTAGRAM = "https://instagram.demo.invalid"
_BLUESKY = "https://bsky.demo.invalid"
_BLUESKY_SUFFIX = ".bsky.demo.invalid"
_INSTANCES = (
    "mastodon.demo.invalid",
    "mastodon.demo.invalid",
    "piaille.demo.invalid",
    "toot.demo.invalid",
    "social.demo.invalid",
)


class _Builder:
    """One demo town being built: its people, its sources and their drafts."""

    def __init__(self, now: datetime, seed: int) -> None:
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self.now = now.astimezone(UTC)
        self.base = self.now.replace(second=0, microsecond=0)
        self.rng = random.Random(seed)
        self.seen: set[str] = set()
        self.used: dict[tuple[str, str], dict[str, int]] = {}
        self.whos: dict[tuple[str, str], Account] = {}
        self._cast()
        self.mastodon = self._source(
            "Mairie (Mastodon)",
            "mastodon",
            "account",
            self.town_mastodon,
            {"base_url": _MASTODON, "handle": self.town_mastodon.handle},
        )
        self.police = self._source(
            "Police municipale (Mastodon)",
            "mastodon",
            "account",
            self.town_police,
            {"base_url": _MASTODON, "handle": self.town_police.handle},
        )
        self.facebook = self._source(
            "Mairie (Facebook)",
            "facebook",
            "account",
            self.town_facebook,
            {"base_url": _FACEBOOK, "page_name": TOWN_NAME, "page_id": ""},
        )
        self.facebook.settings["page_id"] = self.who(self.facebook, self.town_facebook).platform_id
        self.instagram = self._source(
            "Mairie (Instagram)",
            "instagram",
            "account",
            self.town_instagram,
            {"base_url": _INSTAGRAM, "handle": self.town_instagram.handle, "account_id": ""},
        )
        self.instagram.settings["account_id"] = self.who(
            self.instagram, self.town_instagram
        ).platform_id
        self.bluesky = self._source(
            "Veille (Bluesky)",
            "bluesky",
            "watch",
            None,
            {
                "base_url": _BLUESKY,
                "query": '"Saint-Aubin-sur-Loire" OR #SaintAubinSurLoire OR "Claire Dumas"',
                "language": "fr",
            },
        )

    # --- people -----------------------------------------------------------------------------

    def _cast(self) -> None:
        rng = self.rng

        def town(key: str, display: str, handle: str) -> Persona:
            return Persona(key, display, handle, "", "fr", rng.randint(1800, 9000), 3200, town=True)

        self.town_mastodon = town("town-mastodon", TOWN_NAME, "mairie_saint_aubin")
        self.town_police = town(
            "town-police", "Police municipale de Saint-Aubin-sur-Loire", "police_saint_aubin"
        )
        self.town_facebook = town("town-facebook", TOWN_NAME, "mairie.saintaubinsurloire")
        self.town_instagram = town("town-instagram", "Saint-Aubin-sur-Loire", "saintaubinsurloire")
        self.mayor = Persona(
            "mayor",
            MAYOR,
            "claire-dumas.saint-aubin-sur-loire.demo.invalid",
            "Claire",
            "fr",
            2140,
            2900,
        )
        self.impostor = Persona(
            "impostor",
            "Claire Dumas - Maire",
            "claire_dumas_maire_officiel",
            "Claire",
            "fr",
            37,
            9,
        )

        self.fr: list[Persona] = []
        names = [(f, last) for f in texts.FIRST_NAMES for last in texts.LAST_NAMES]
        picked = rng.sample(names, 110)
        for first, last in picked[:94]:
            self.fr.append(self._citizen(first, last, "fr"))
        self.campaigners = [
            self._citizen(first, last, "fr", campaign=True) for first, last in picked[94:110]
        ]
        self.en = [
            self._named(d, h, f, "en", i) for i, (d, h, f) in enumerate(texts.ENGLISH_SPEAKERS)
        ]
        self.ar = [
            self._named(d, h, f, "ar", i) for i, (d, h, f) in enumerate(texts.ARABIC_SPEAKERS)
        ]
        self.trolls = [self._named(d, h, f, "fr", i) for i, (d, h, f) in enumerate(texts.TROLLS)]
        self.bots = {
            h: Persona(f"bot-{h}", d, h, "", "fr", rng.randint(0, 60), rng.randint(1, 60))
            for d, h in texts.BOTS
        }
        # A few regulars write much more than the others.
        self.fr_weights = [1.0 / (1 + i) ** 0.6 for i in range(len(self.fr))]

    def _citizen(self, first: str, last: str, lang: str, campaign: bool = False) -> Persona:
        rng = self.rng
        f, la = _slug(first, ""), _slug(last, "")
        style = rng.randrange(6)
        handle = (
            f"{f}.{la}",
            f"{f}_{la[:1]}{rng.randint(10, 99)}",
            f"{f}{la}{rng.choice((49, 45, 72, 85, 1978, 1984, 1991))}",
            f"{la}_{f}",
            f"{f}.{la}",
            f"{f[:1]}{la}",
        )[style]
        display = (
            f"{first} {last}",
            f"{first} {last[:1]}.",
            f"{first} {last}",
            f"{first.lower()} {last.lower()}",
            f"{first} {last} 🌻" if rng.random() < 0.5 else f"{first} {last}",
            f"{first} {last}",
        )[style]
        if campaign:
            handle = f"{f}.{la}.{rng.randint(1000, 9999)}"
            display = f"{first} {last}"
            return Persona(
                f"c-{handle}",
                display,
                handle,
                first,
                lang,
                rng.randint(0, 14),
                rng.randint(2, 21),
                rng.choice(_INSTANCES),
            )
        return Persona(
            f"p-{handle}",
            display,
            handle,
            first,
            lang,
            rng.randint(12, 900),
            rng.randint(200, 4500),
            rng.choice(_INSTANCES),
        )

    def _named(self, display: str, handle: str, first: str, lang: str, i: int) -> Persona:
        return Persona(
            f"{lang}-{handle}",
            display,
            handle,
            first,
            lang,
            self.rng.randint(20, 700),
            self.rng.randint(120, 3800),
            _INSTANCES[i % len(_INSTANCES)],
        )

    def who(self, source: DraftSource, persona: Persona) -> Account:
        """The persona on ``source``'s platform: stable id, handle and address."""
        key = (source.platform, persona.key)
        if key in self.whos:
            return self.whos[key]
        platform = source.platform
        created = iso_z(
            datetime.combine(self.base.date(), time(12), UTC) - timedelta(days=persona.age_days)
        )
        if platform == "mastodon":
            username = re.sub(r"[^A-Za-z0-9_]", "_", persona.handle)
            home = "mastodon.demo.invalid" if persona.town else persona.instance
            acct = username if home == "mastodon.demo.invalid" else f"{username}@{home}"
            pid = digits(f"mastodon-account:{persona.key}", 18)
            url = f"https://{home}/@{username}"
            who = Account(persona, pid, acct, persona.display, url, created)
        elif platform == "facebook":
            pid = digits(f"facebook-account:{persona.key}", 15)
            who = Account(
                persona, pid, persona.handle, persona.display, f"{_FACEBOOK}/{pid}", created
            )
        elif platform == "instagram":
            username = re.sub(r"[^a-z0-9_.]", "_", persona.handle.lower())
            pid = digits(f"instagram-account:{persona.key}", 17)
            url = f"{_INSTAGRAM}/{username}"
            who = Account(persona, pid, username, persona.display, url, created)
        else:
            handle = persona.handle
            if not handle.endswith(".invalid"):
                handle = re.sub(r"[^a-z0-9-]", "-", handle.lower()).strip("-") + _BLUESKY_SUFFIX
            did = "did:plc:" + base32(f"bluesky-account:{persona.key}", 24)
            url = f"{_BLUESKY}/profile/{handle}"
            who = Account(persona, did, handle, persona.display, url, created)
        self.whos[key] = who
        return who

    def pick_person(self, category: str, lang: str, head: str | None = None) -> Persona:
        rng = self.rng
        if category in ("spam", "scam"):
            return self.bots[head] if head in self.bots else rng.choice(list(self.bots.values()))
        if category in ("insult", "threat", "hate") and rng.random() < 0.7:
            return rng.choice(self.trolls)
        if lang == "en":
            return rng.choice(self.en)
        if lang == "ar":
            return rng.choice(self.ar)
        return rng.choices(self.fr, weights=self.fr_weights)[0]

    # --- time -------------------------------------------------------------------------------

    def at(self, days_ago: int, hour: int, minute: int, routine: bool = False) -> datetime:
        """A moment ``days_ago`` days before today (1 to 41), at ``hour:minute`` UTC."""
        days_ago = min(max(days_ago, 1), 41)
        day = self.base.date() - timedelta(days=days_ago)
        if routine and day.weekday() >= 5:
            back = day - timedelta(days=day.weekday() - 4)
            forward = day + timedelta(days=7 - day.weekday())
            day = back if (self.base.date() - back).days <= 41 else forward
        return datetime.combine(day, time(hour, minute), UTC)

    def random_moment(self, lo: int, hi: int) -> datetime:
        hours = (5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22)
        weights = (1, 2, 3, 3, 3, 3, 3, 4, 3, 3, 3, 3, 4, 5, 6, 6, 4, 2)
        hour = self.rng.choices(hours, weights=weights)[0]
        return self.at(self.rng.randint(lo, hi), hour, self.rng.randrange(60))

    def after(self, moment: datetime, profile: str = "comment") -> datetime:
        """A moment after ``moment`` (and before now), ``profile`` says how long after."""
        rng = self.rng
        roll = rng.random()
        if profile == "comment":
            if roll < 0.7:
                minutes = rng.uniform(1, 180)
            elif roll < 0.92:
                minutes = rng.uniform(180, 1440)
            else:
                minutes = rng.uniform(1440, 4320)
        elif profile == "reply":
            minutes = rng.uniform(2, 120) if roll < 0.8 else rng.uniform(120, 1080)
        elif profile == "answer":
            minutes = rng.uniform(25, 1560)
        else:  # "soon"
            minutes = rng.uniform(2, 40)
        return self.clamp(moment, moment + timedelta(seconds=int(minutes * 60)))

    def clamp(self, parent: datetime, moment: datetime) -> datetime:
        """``moment``, moved if need be strictly after ``parent`` and strictly before now."""
        if moment <= parent:
            moment = parent + timedelta(minutes=7)
        limit = self.base - timedelta(minutes=1)
        if moment > limit:
            moment = limit
        if moment <= parent:
            half = int((self.base - parent).total_seconds()) // 2
            moment = parent + timedelta(seconds=max(1, half))
        assert parent < moment < self.now, (parent, moment, self.now)
        return moment

    # --- texts ------------------------------------------------------------------------------

    def slot(self, name: str, extra: Mapping[str, str]) -> str:
        rng = self.rng
        if name in extra:
            return extra[name]
        if name.startswith("link:"):
            return f"https://{name[5:]}/{token(str(rng.random()), rng.choice((7, 8, 9)))}"
        choices = {
            "rue": texts.STREETS,
            "quartier": texts.QUARTERS,
            "lieu": texts.PLACES,
            "doc": texts.DOCUMENTS,
            "acte": texts.CIVIL_RECORDS,
            "jour": texts.WEEKDAYS[:6],
            "ami": texts.FIRST_NAMES,
        }
        if name in choices:
            return rng.choice(choices[name])
        if name == "num":
            return str(rng.randint(1, 64))
        if name == "n":
            return str(rng.randint(2, 9))
        raise KeyError(name)

    def fill(self, template: str, extra: Mapping[str, str] | None = None) -> str:
        values = extra or {}
        return re.sub(r"\{([\w:.-]+)\}", lambda m: self.slot(m.group(1), values), template)

    def dress(self, text: str, category: str, lang: str) -> str:
        """Make a template read as people type: greetings, abbreviations, typos, emojis."""
        rng = self.rng
        if lang == "en":
            if rng.random() < 0.15:
                text = _lower_first(text)
            if text.endswith(".") and rng.random() < 0.3:
                text = text[:-1]
            return text
        if lang != "fr" or category in ("spam", "scam"):
            return text
        if category in ("question", "request"):
            if not text.startswith(("Bonjour", "Bonsoir", "Hello")) and rng.random() < 0.45:
                text = rng.choice(texts.GREETINGS) + _lower_first(text)
            if rng.random() < 0.3 and "merci" not in text[-25:].casefold():
                text = text.rstrip() + rng.choice(texts.SIGNOFFS)
        if rng.random() < 0.35:
            for long, short in rng.sample(texts.ABBREVIATIONS, 3):
                text = text.replace(long, short)
        if rng.random() < 0.12:
            text = _strip_accents(text)
        if rng.random() < 0.15:
            text = _lower_first(text)
        if text.endswith(".") and rng.random() < 0.3:
            text = text[:-1]
        if text.endswith("?") and rng.random() < 0.12:
            text += rng.choice(("?", "?!", "??"))
        ends_with_emoji = unicodedata.category(text[-1]) == "So" if text else False
        if category in texts.EMOJI and not ends_with_emoji and rng.random() < 0.15:
            text = f"{text} {rng.choice(texts.EMOJI[category])}"
        if category in ("insult", "threat") and not text.endswith("!") and rng.random() < 0.2:
            text = text.rstrip(".") + " !!"
        return text

    def write(
        self,
        category: str,
        lang: str,
        *,
        topic: str | None = None,
        subjects: tuple[str, ...] = (),
        head: str | None = None,
        pool: str | None = None,
    ) -> tuple[str, str, str | None]:
        """A fresh text of ``category`` in ``lang`` (French when there is none): text, lang, tag.

        ``head`` picks the templates of that target or bot; ``subjects`` (those of the post
        commented on) prefers the templates about it, then ``topic``, then general ones.
        Among those, the templates used least so far come first.
        """
        rng = self.rng
        name = pool or category
        pools = texts.POOLS[name]
        if lang not in pools:
            lang = "fr"
        entries = pools[lang]
        if not subjects:
            entries = tuple(e for e in entries if not texts.bound_to_posts(e[0])) or entries
        choice = entries
        if head is not None:
            choice = tuple(e for e in entries if texts.tag_head(e[0]) == head) or entries
        elif subjects:
            fitting = tuple(e for e in entries if texts.tag_subject(e[0]) in subjects)
            general = tuple(e for e in entries if texts.tag_subject(e[0]) is None) or entries
            on_topic = tuple(
                e for e in general if topic is not None and texts.tag_head(e[0]) == topic
            )
            asking = category in ("question", "request")
            if fitting and rng.random() < (0.45 if asking else 0.65):
                choice = fitting
            elif on_topic and rng.random() < 0.6:
                choice = on_topic
            else:
                choice = general
        used = self.used.setdefault((name, lang), {})
        fewest = min(used.get(e[1], 0) for e in choice)
        fresh = tuple(e for e in choice if used.get(e[1], 0) == fewest)
        text, tag = "", None
        for _ in range(40):
            tag, template = rng.choice(fresh)
            text = self.dress(self.fill(template), category, lang)
            if text.casefold() not in self.seen:
                break
        self.seen.add(text.casefold())
        used[template] = used.get(template, 0) + 1
        return text, lang, tag

    def cards(
        self, deck: Mapping[str, int], weights: tuple[float, float, float], watch: bool = False
    ) -> list[tuple[str, str]]:
        """The deck's categories shuffled, each with a language.

        English and Arabic get their share of the deck exactly (``weights`` are the shares of
        French, English and Arabic), given to categories that have texts in that language.
        """
        rng = self.rng
        categories = self.shuffled(deck)
        langs = ["fr"] * len(categories)
        order = list(range(len(categories)))
        rng.shuffle(order)
        for lang, share in (("ar", weights[2]), ("en", weights[1])):
            wanted = round(len(categories) * share)
            for k in order:
                pool = categories[k]
                if watch and pool == "neutral":
                    pool = "watch_neutral"
                if wanted and langs[k] == "fr" and lang in texts.POOLS[pool]:
                    langs[k] = lang
                    wanted -= 1
        return list(zip(categories, langs, strict=True))

    def pick_lang(self, weights: tuple[float, float, float]) -> str:
        return self.rng.choices(("fr", "en", "ar"), weights=weights)[0]

    # --- items ------------------------------------------------------------------------------

    def _source(
        self,
        name: str,
        platform: str,
        kind: str,
        account: Persona | None,
        settings: dict[str, str],
    ) -> DraftSource:
        return DraftSource(name, platform, kind, settings, account)

    def label(
        self,
        category: str,
        kind: ItemKind,
        topic: str | None = None,
        target: str | None = None,
        group: str | None = None,
        action: str | None = None,
    ) -> DemoLabel:
        if action is None:
            action = _DEFAULT_ACTION[category]
            if kind == ItemKind.MESSAGE and category in _TOXIC:
                action = "review"
        return DemoLabel(category, topic, target, group, action)

    def add(
        self,
        source: DraftSource,
        kind: ItemKind,
        text: str,
        when: datetime,
        persona: Persona,
        lang: str,
        label: DemoLabel,
        parent: Draft | None = None,
        likes: int = 0,
        shares: int = 0,
        media: tuple[Media, ...] = (),
        to: Persona | None = None,
    ) -> Draft:
        who = self.who(source, persona)
        if parent is not None:
            assert parent.created_at < when, (parent.pid, parent.created_at, when)
        if source.platform == "mastodon" and not text.startswith("@"):
            # Mastodon replies and direct messages begin with the mention of their addressee.
            other = parent.who if parent is not None else None
            if other is None and to is not None:
                other = self.who(source, to)
            if other is not None and other.platform_id != who.platform_id:
                text = f"@{other.handle} {text}"
        source.seq += 1
        seq = source.seq
        root = source.by_id[parent.thread_id] if parent is not None else None
        pid, url, ref = self._ident(source, kind, when, who, root, parent, seq)
        if kind == ItemKind.MESSAGE:
            likes, shares = 0, 0
        draft = Draft(
            pid=pid,
            kind=kind,
            text=text,
            created_at=when,
            who=who,
            lang=lang,
            label=label,
            thread_id=root.pid if root is not None else pid,
            parent_id=parent.pid if parent is not None else None,
            url=url,
            likes=likes,
            shares=shares,
            media=media,
            ref=ref,
            to=self.who(source, to) if to is not None else None,
        )
        if parent is not None:
            parent.children += 1
        assert pid not in source.by_id, pid
        source.drafts.append(draft)
        source.by_id[pid] = draft
        return draft

    def _ident(
        self,
        source: DraftSource,
        kind: ItemKind,
        when: datetime,
        who: Account,
        root: Draft | None,
        parent: Draft | None,
        seq: int,
    ) -> tuple[str, str, str]:
        """Platform id, address and secondary reference of a new item.

        Ids depend on the source and the order of creation only, not on ``now``: loading the
        demo again later finds the same items.
        """
        platform = source.platform
        if platform == "mastodon":
            pid = "11" + digits(f"mastodon-status:{source.name}:{seq}", 16)
            return pid, f"{_MASTODON}/@{who.handle}/{pid}", ""
        if platform == "facebook":
            page_id = source.settings["page_id"]
            if kind == ItemKind.POST:
                number = digits(f"facebook-post:{source.name}:{seq}", 16)
                return f"{page_id}_{number}", f"{_FACEBOOK}/{page_id}/posts/{number}", number
            if kind == ItemKind.MESSAGE:
                pid = "m_" + token(f"facebook-message:{seq}", 40)
                return pid, f"{_FACEBOOK}/latest/inbox/all?selected_item_id={pid}", ""
            assert root is not None and parent is not None
            number = digits(f"facebook-comment:{seq}", 16)
            url = f"{root.url}?comment_id={number}"
            if kind == ItemKind.REPLY:
                url = f"{root.url}?comment_id={parent.ref}&reply_comment_id={number}"
            return f"{root.ref}_{number}", url, number
        if platform == "instagram":
            if kind == ItemKind.POST:
                pid = "17" + digits(f"instagram-media:{seq}", 15)
                return pid, f"{_INSTAGRAM}/p/{token(pid, 11)}/", ""
            if kind == ItemKind.MESSAGE:
                pid = "aWdfZAG" + token(f"instagram-message:{seq}", 40)
                return pid, f"{_INSTAGRAM}/direct/t/{digits(who.platform_id, 17)}/", ""
            assert root is not None
            pid = "18" + digits(f"instagram-comment:{seq}", 15)
            return pid, f"{root.url}c/{pid}/", ""
        record_key = tid(TID_EPOCH + seq * 7_919_000_003, seq)
        pid = f"at://{who.platform_id}/app.bsky.feed.post/{record_key}"
        return (
            pid,
            f"{_BLUESKY}/profile/{who.handle}/post/{record_key}",
            "bafyrei" + base32(pid, 52),
        )

    # --- metrics ----------------------------------------------------------------------------

    def likes(self, category: str, platform: str) -> int:
        rng = self.rng
        top = {
            "praise": 40,
            "criticism": 60,
            "campaign": 25,
            "hate": 12,
            "insult": 9,
            "threat": 4,
            "spam": 1,
            "scam": 2,
            "hoax": 30,
            "impersonation": 6,
        }.get(category, 6)
        value = int(rng.paretovariate(2.2) * top / 3)
        if platform == "instagram":
            value = int(value * 1.5)
        return min(value, top * 3)

    # --- scenes -----------------------------------------------------------------------------

    def town_posts(self) -> None:
        rng = self.rng
        accounts = {
            "mastodon": (self.mastodon, self.town_mastodon),
            "police": (self.police, self.town_police),
            "facebook": (self.facebook, self.town_facebook),
            "instagram": (self.instagram, self.town_instagram),
        }
        scale = {"mastodon": 0.35, "police": 0.3, "facebook": 1.0, "instagram": 1.9}
        for spec in texts.ANNOUNCEMENTS + texts.POLICE_POSTS:
            when = self.at(spec.days_ago, spec.hour, spec.minute, routine=spec.routine)
            today = when.date()
            extra = {f"date{n}": _fr_date(_working_day(today, n)) for n in range(1, 15)}
            extra["datem2"] = _fr_date(today - timedelta(days=2))
            extra["vendredi"] = _fr_date(_next_weekday(today, 4, 2))
            extra["samedi"] = _fr_date(_next_weekday(today, 5, 3))
            extra["dimanche"] = _fr_date(_next_weekday(today, 6, 10))
            extra["month"] = texts.MONTHS[(today + timedelta(days=30)).month - 1]
            for platform in spec.where:
                source, persona = accounts[platform]
                text = spec.insta if platform == "instagram" and spec.insta else spec.text
                text = self.fill(text, extra)
                offset = {"mastodon": 0, "police": 0, "facebook": 3, "instagram": 21}[platform]
                media: tuple[Media, ...] = ()
                if spec.image:
                    media = (Media("image", f"{MEDIA_HOST}/{spec.key}.jpg", spec.image),)
                likes = int(spec.engagement * scale[platform] * rng.randint(18, 95))
                shares = 0
                if platform != "instagram":
                    shares = int(spec.engagement * scale[platform] * rng.randint(2, 24))
                label = self.label(
                    "announcement", ItemKind.POST, topic=spec.topic, group=spec.group
                )
                post = self.add(
                    source,
                    ItemKind.POST,
                    text,
                    when + timedelta(minutes=offset),
                    persona,
                    "fr",
                    label,
                    likes=likes,
                    shares=shares,
                    media=media,
                )
                post.subjects = spec.subjects
                source.posts[spec.key] = post
                source.weights[post.pid] = spec.engagement

    def town_threads(self, source: DraftSource) -> tuple[list[Draft], list[float]]:
        """The town's posts on ``source`` and how much each draws comments."""
        posts = [d for d in source.drafts if d.kind == ItemKind.POST and d.who.persona.town]
        return posts, [source.weights.get(p.pid, 1.0) for p in posts]

    def comments(
        self,
        source: DraftSource,
        deck: Mapping[str, int],
        weights: tuple[float, float, float],
    ) -> None:
        """Comments of the categories in ``deck`` under the town's posts of ``source``."""
        rng = self.rng
        posts, post_weights = self.town_threads(source)
        for category, lang in self.cards(deck, weights):
            post = rng.choices(posts, weights=post_weights)[0]
            subjects = post.subjects or (("police",) if source is self.police else ())
            text, lang, tag = self.write(category, lang, topic=post.label.topic, subjects=subjects)
            topic, target = self.tags(category, tag)
            media: tuple[Media, ...] = ()
            if category == "request" and rng.random() < 0.3:
                photo = token(f"{source.name}:{source.seq}:photo", 12)
                media = (Media("image", f"https://media.demo.invalid/u/{photo}.jpg"),)
            self.add(
                source,
                ItemKind.COMMENT,
                text,
                self.after(post.created_at),
                self.pick_person(category, lang, texts.tag_head(tag)),
                lang,
                self.label(category, ItemKind.COMMENT, topic=topic, target=target),
                parent=post,
                likes=self.likes(category, source.platform),
                media=media,
            )

    def shuffled(self, deck: Mapping[str, int]) -> list[str]:
        cards = [category for category, count in deck.items() for _ in range(count)]
        self.rng.shuffle(cards)
        return cards

    @staticmethod
    def tags(category: str, tag: str | None) -> tuple[str | None, str | None]:
        """The label's topic and target for a template's tag."""
        if category in ("question", "request"):
            return texts.tag_head(tag) or "other", None
        if category in ("insult", "threat", "hate"):
            return None, texts.tag_head(tag)
        return None, None

    def replies(
        self,
        source: DraftSource,
        deck: Mapping[str, int],
        weights: tuple[float, float, float],
    ) -> None:
        """Replies under the citizens' comments: the town's answers (``answer``) and others."""
        rng = self.rng
        for category in self.shuffled(deck):
            candidates = [
                d
                for d in source.drafts
                if d.kind == ItemKind.COMMENT
                and not d.who.persona.town
                and d.label.group is None
                and d.label.category not in _TOXIC
            ]
            if category == "answer":
                wanted = [
                    d
                    for d in candidates
                    if d.label.category in ("question", "request") and d.children == 0
                ]
                self.answer(source, rng.choice(wanted), ItemKind.REPLY)
                continue
            if category == "insult":
                wanted = [d for d in candidates if d.label.category in ("criticism", "praise")]
            elif category in ("praise", "criticism"):
                wanted = [d for d in candidates if d.label.category in ("criticism", "praise")]
            else:
                wanted = [
                    d
                    for d in candidates
                    if d.label.category in ("criticism", "praise", "question", "neutral")
                ]
            parent = rng.choice(wanted)
            self.reply(source, parent, category, weights)

    def reply(
        self,
        source: DraftSource,
        parent: Draft,
        category: str,
        weights: tuple[float, float, float],
    ) -> Draft:
        """Someone answers ``parent``: agrees, disagrees, chats or insults its author."""
        rng = self.rng
        lang = parent.lang if rng.random() < 0.7 else self.pick_lang(weights)
        target = None
        if category == "insult":
            text, lang, tag = self.write("insult", lang, head="citizen")
            target = texts.tag_head(tag)
        elif category in ("neutral", "praise", "criticism"):
            text, lang, _ = self.write(category, lang, pool=f"reply_{category}")
        else:
            text, lang, tag = self.write(category, lang)
            target = self.tags(category, tag)[1]
        kind = ItemKind.REPLY if parent.kind != ItemKind.POST else ItemKind.COMMENT
        return self.add(
            source,
            kind,
            text,
            self.after(parent.created_at, "reply"),
            self.pick_person(category, lang),
            lang,
            self.label(category, kind, target=target),
            parent=parent,
            likes=self.likes(category, source.platform),
        )

    def answer(
        self,
        source: DraftSource,
        parent: Draft,
        kind: ItemKind,
        template: str | None = None,
        group: str | None = None,
    ) -> Draft:
        """The town's answer to ``parent``, in English when asked in English."""
        assert source.account is not None
        topic = parent.label.topic or "other"
        lang = "en" if parent.lang == "en" and template is None else "fr"
        if template is None:
            template = _answer(parent.text, lang)
        first = parent.who.persona.first_name
        text = self.fill(template, {"prenom": first})
        if not first:
            text = text.replace("Bonjour , ", "Bonjour, ").replace("Hello , ", "Hello, ")
        label = self.label("neutral", kind, topic=topic, group=group)
        to = parent.who.persona if kind == ItemKind.MESSAGE else None
        return self.add(
            source,
            kind,
            text,
            self.after(parent.created_at, "answer"),
            source.account,
            lang,
            label,
            parent=parent,
            likes=self.rng.randint(0, 6),
            to=to,
        )

    def messages(
        self,
        source: DraftSource,
        deck: Mapping[str, int],
        weights: tuple[float, float, float],
        answered: int,
    ) -> None:
        """Private messages to the town, ``answered`` of the questions answered by it."""
        rng = self.rng
        assert source.account is not None
        asked: list[Draft] = []
        for category, lang in self.cards(deck, weights):
            pool = None
            if category in ("question", "request") and lang == "fr" and rng.random() < 0.45:
                pool = f"message_{category}"
            text, lang, tag = self.write(category, lang, pool=pool)
            topic, target = self.tags(category, tag)
            message = self.add(
                source,
                ItemKind.MESSAGE,
                text,
                self.random_moment(1, 41),
                self.pick_person(category, lang, texts.tag_head(tag)),
                lang,
                self.label(category, ItemKind.MESSAGE, topic=topic, target=target),
                to=source.account,
            )
            if category in ("question", "request"):
                asked.append(message)
        for message in rng.sample(asked, min(answered, len(asked))):
            self.answer(source, message, ItemKind.MESSAGE)

    def mentions(
        self,
        source: DraftSource,
        deck: Mapping[str, int],
        weights: tuple[float, float, float],
        answered: int = 0,
    ) -> None:
        """Public posts that mention the account of ``source``."""
        rng = self.rng
        assert source.account is not None
        handle = "@" + source.account.handle
        asked: list[Draft] = []
        for category, lang in self.cards(deck, weights):
            head = rng.choice(("mayor", "agents")) if category in ("insult", "threat") else None
            text, lang, tag = self.write(category, lang, head=head)
            topic, target = self.tags(category, tag)
            mention = self.add(
                source,
                ItemKind.MENTION,
                f"{handle} {text}",
                self.random_moment(1, 41),
                self.pick_person(category, lang, texts.tag_head(tag)),
                lang,
                self.label(category, ItemKind.MENTION, topic=topic, target=target),
                likes=self.likes(category, source.platform),
                shares=rng.randint(0, 3),
            )
            if category in ("question", "request"):
                asked.append(mention)
        for mention in rng.sample(asked, min(answered, len(asked))):
            self.answer(source, mention, ItemKind.REPLY)

    def watch_posts(
        self,
        deck: Mapping[str, int],
        replies: Mapping[str, int],
        weights: tuple[float, float, float],
    ) -> None:
        """What the Bluesky watch catches: people talking about the town, not to it."""
        rng = self.rng
        source = self.bluesky
        roots: list[Draft] = []
        for category, lang in self.cards(deck, weights, watch=True):
            head = rng.choice(("mayor", "agents")) if category in ("insult", "threat") else None
            pool = "watch_neutral" if category == "neutral" else None
            text, lang, tag = self.write(category, lang, head=head, pool=pool)
            if category not in ("spam", "scam") and not re.search("Saint-Aubin|Dumas", text):
                if lang == "ar":
                    text = f"{text} #سان_أوبان"
                elif lang == "en" or category in ("question", "request") or rng.random() < 0.5:
                    text = f"{text} #SaintAubinSurLoire"
                else:
                    text = f"Saint-Aubin-sur-Loire : {_lower_first(text)}"
            topic, target = self.tags(category, tag)
            roots.append(
                self.add(
                    source,
                    ItemKind.POST,
                    text,
                    self.random_moment(1, 41),
                    self.pick_person(category, lang, texts.tag_head(tag)),
                    lang,
                    self.label(category, ItemKind.POST, topic=topic, target=target),
                    likes=self.likes(category, "bluesky"),
                    shares=rng.randint(0, 6),
                )
            )
        for category in self.shuffled(replies):
            fitting = ("criticism", "praise") if category != "neutral" else ("neutral",)
            parent = rng.choice([r for r in roots if r.label.category in fitting])
            self.reply(source, parent, category, weights)

    def mayor_posts(self) -> None:
        rng = self.rng
        for mayor_post in texts.MAYOR_POSTS:
            self.add(
                self.bluesky,
                ItemKind.POST,
                mayor_post.text,
                self.at(mayor_post.days_ago, mayor_post.hour, mayor_post.minute),
                self.mayor,
                "fr",
                self.label("announcement", ItemKind.POST, topic="other"),
                likes=rng.randint(40, 160),
                shares=rng.randint(5, 30),
            )
        self.reply(self.bluesky, self.bluesky.drafts[-1], "criticism", (1.0, 0.0, 0.0))

    def hoax(self) -> None:
        """The tap-water rumour: born on Bluesky, it spreads for a week, then fades."""
        rng = self.rng
        per_day = {12: 2, 11: 6, 10: 9, 9: 7, 8: 4, 7: 2, 6: 1}
        strength = {12: 0.35, 11: 0.8, 10: 1.0, 9: 0.7, 8: 0.4, 7: 0.2, 6: 0.1}
        languages = {4: "en", 9: "ar", 13: "en", 18: "ar", 22: "en"}
        debunk = self.facebook.posts["dementi-eau"].created_at
        posts: list[Draft] = []
        phrasings = list(texts.HOAX_POSTS["fr"][1:])
        rng.shuffle(phrasings)
        phrasings.insert(0, texts.HOAX_POSTS["fr"][0])  # the message that starts it all
        foreign = {"en": list(texts.HOAX_POSTS["en"]) * 2, "ar": list(texts.HOAX_POSTS["ar"]) * 2}
        index = 0
        for days_ago, count in per_day.items():
            moments = sorted(self.random_moment(days_ago, days_ago) for _ in range(count))
            if index == 0:
                moments[0] = self.at(days_ago, 17, 42)
            for moment in moments:
                lang = languages.get(index, "fr")
                power = strength[days_ago]
                if index == 0:
                    channel = "post"
                else:
                    channel = rng.choices(
                        ("post", "quote", "echo", "facebook", "instagram", "mastodon"),
                        weights=(5, 3, 3, 4, 1, 1),
                    )[0]
                if lang != "fr" and channel in ("echo", "quote"):
                    channel = "post"
                earlier = [p for p in posts if p.created_at < moment]
                quotable = [p for p in earlier if p.lang == "fr" and "«" not in p.text]
                if (channel == "echo" and not earlier) or (channel == "quote" and not quotable):
                    channel = "post"
                label = self.label("hoax", ItemKind.POST, group=HOAX_ID)
                if channel in ("post", "quote"):
                    if lang != "fr":
                        text = foreign[lang].pop(0)
                    elif channel == "quote":
                        quoted = rng.choice(quotable).text
                        snippet = quoted if len(quoted) < 140 else quoted[:137].rstrip() + "…"
                        text = f"{rng.choice(texts.HOAX_QUOTE_PREFIXES)}\n\n« {snippet} »"
                    else:
                        # Nobody can call the denial a lie before it is published.
                        valid = [p for p in phrasings if moment > debunk or "démenti" not in p]
                        text = valid[0] if valid else rng.choice(texts.HOAX_POSTS["fr"][:7])
                        if text in phrasings:
                            phrasings.remove(text)
                    shares = int(power * rng.randint(120, 640))
                    if index == 0:
                        shares = rng.randint(380, 520)
                    person = rng.choice(
                        self.en if lang == "en" else self.ar if lang == "ar" else self.fr
                    )
                    post = self.add(
                        self.bluesky,
                        ItemKind.POST,
                        text,
                        moment,
                        person,
                        lang,
                        label,
                        likes=int(shares * rng.uniform(0.6, 1.8)),
                        shares=shares,
                    )
                    posts.append(post)
                elif channel == "echo":
                    parent = rng.choice(earlier)
                    text = rng.choice(texts.HOAX_ECHOES)
                    if text.casefold() in self.seen:
                        text = self.dress(
                            text + " " + rng.choice(("😡", "🙏", "!!", "😱")), "", "fr"
                        )
                    self.seen.add(text.casefold())
                    self.add(
                        self.bluesky,
                        ItemKind.COMMENT,
                        text,
                        self.clamp(parent.created_at, moment),
                        rng.choice(self.fr),
                        "fr",
                        self.label("hoax", ItemKind.COMMENT, group=HOAX_ID),
                        parent=parent,
                        likes=int(power * rng.randint(5, 40)),
                        shares=int(power * rng.randint(0, 30)),
                    )
                else:
                    source = {
                        "facebook": self.facebook,
                        "instagram": self.instagram,
                        "mastodon": self.mastodon,
                    }[channel]
                    key = "dementi-eau" if moment > debunk + timedelta(minutes=30) else None
                    if key is None or key not in source.posts:
                        key = "travaux-reseau-eau" if channel != "instagram" else "fleurissement"
                    parent = source.posts[key]
                    if lang == "fr":
                        options = [
                            t
                            for t in texts.HOAX_POSTS["fr"] + texts.HOAX_ECHOES
                            if moment > debunk or "démenti" not in t
                        ]
                        text = rng.choice(options)
                        if text.casefold() in self.seen:
                            text = self.dress(text, "neutral", "fr")
                    else:
                        text = foreign[lang].pop(0)
                    self.seen.add(text.casefold())
                    self.add(
                        source,
                        ItemKind.COMMENT,
                        text,
                        self.clamp(parent.created_at, moment),
                        rng.choice(
                            self.en if lang == "en" else self.ar if lang == "ar" else self.fr
                        ),
                        lang,
                        self.label("hoax", ItemKind.COMMENT, group=HOAX_ID),
                        parent=parent,
                        likes=int(power * rng.randint(3, 30)),
                    )
                index += 1

        # People ask whether it is true; a few push back; the town answers.
        first_post = posts[0]
        peak = [p for p in posts if p.created_at.date() == self.at(10, 12, 0).date()] or posts
        lang, text = texts.HOAX_QUESTIONS["bluesky"][0]
        self.add(
            self.bluesky,
            ItemKind.COMMENT,
            text,
            self.after(first_post.created_at, "reply"),
            rng.choice(self.fr),
            lang,
            self.label("question", ItemKind.COMMENT, topic="other", group=HOAX_ID),
            parent=first_post,
            likes=rng.randint(2, 12),
        )
        for skeptic in texts.HOAX_SKEPTICS:
            parent = rng.choice(peak)
            moment = self.after(parent.created_at, "reply")
            if "démenti" in skeptic:
                moment = self.clamp(parent.created_at, max(moment, debunk + timedelta(minutes=25)))
            self.add(
                self.bluesky,
                ItemKind.COMMENT,
                skeptic,
                moment,
                rng.choice(self.fr),
                "fr",
                self.label("neutral", ItemKind.COMMENT, group=HOAX_ID),
                parent=parent,
                likes=rng.randint(4, 30),
            )
        source = self.facebook
        for (lang, text), days_ago in zip(texts.HOAX_QUESTIONS["facebook"], (11, 10), strict=True):
            message = self.add(
                source,
                ItemKind.MESSAGE,
                text,
                self.at(days_ago, 7 + rng.randrange(4), rng.randrange(60)),
                rng.choice(self.ar if lang == "ar" else self.fr),
                lang,
                self.label("question", ItemKind.MESSAGE, topic="other", group=HOAX_ID),
                to=source.account,
            )
            self.answer(source, message, ItemKind.MESSAGE, texts.HOAX_ANSWER, group=HOAX_ID)
        lang, text = texts.HOAX_QUESTIONS["mastodon"][0]
        mention = self.add(
            self.mastodon,
            ItemKind.MENTION,
            f"@{self.town_mastodon.handle} {text}",
            self.at(11, 18, 12),
            rng.choice(self.fr),
            lang,
            self.label("question", ItemKind.MENTION, topic="other", group=HOAX_ID),
            likes=rng.randint(3, 15),
            shares=rng.randint(1, 8),
        )
        self.answer(self.mastodon, mention, ItemKind.REPLY, texts.HOAX_ANSWER, group=HOAX_ID)

    def campaign(self) -> None:
        """The same message from sixteen accounts in under fifty minutes."""
        rng = self.rng
        start = self.at(18, 19, 52)
        offsets = sorted(rng.sample(range(0, 48 * 60), len(self.campaigners)))
        for i, (persona, offset) in enumerate(zip(self.campaigners, offsets, strict=True)):
            text = texts.CAMPAIGN_TEXT
            for old, new in rng.sample(texts.CAMPAIGN_SWAPS, rng.randint(0, 2)):
                text = text.replace(old, new)
            if rng.random() < 0.3:
                text = text.replace(" !", "!!!", 1)
            if rng.random() < 0.2:
                text = text.replace(" #SauvonsLaPlaceDuMarché", "")
            text = rng.choice(texts.CAMPAIGN_PREFIXES) + text + rng.choice(texts.CAMPAIGN_SUFFIXES)
            source = self.mastodon if i in (5, 11) else self.facebook
            parent = source.posts["place-du-marche"]
            self.add(
                source,
                ItemKind.COMMENT,
                text,
                start + timedelta(seconds=offset),
                persona,
                "fr",
                self.label("campaign", ItemKind.COMMENT, group=CAMPAIGN_ID),
                parent=parent,
                likes=self.likes("campaign", source.platform),
            )

    def impersonation(self) -> None:
        """A fake « Claire Dumas - Maire » promises 250 € and asks for bank details."""
        rng = self.rng
        fake = self.impostor

        def label(category: str, kind: ItemKind, topic: str | None = None) -> DemoLabel:
            return self.label(category, kind, topic=topic, group=IMPERSONATION_ID)

        first, second, third = (
            self.add(
                self.bluesky,
                ItemKind.POST,
                text,
                self.at(days_ago, hour, minute),
                fake,
                "fr",
                label("impersonation", ItemKind.POST),
                likes=rng.randint(8, 40),
                shares=rng.randint(20, 90),
            )
            for text, (days_ago, hour, minute) in zip(
                texts.IMPOSTOR_POSTS, ((6, 16, 5), (5, 6, 20), (5, 19, 0)), strict=True
            )
        )
        doubt = self.add(
            self.bluesky,
            ItemKind.COMMENT,
            texts.IMPERSONATION_QUESTIONS["bluesky"],
            self.at(6, 17, 31),
            rng.choice(self.fr),
            "fr",
            label("question", ItemKind.COMMENT, "other"),
            parent=first,
            likes=rng.randint(3, 12),
        )
        self.add(
            self.bluesky,
            ItemKind.REPLY,
            texts.IMPOSTOR_COMMENTS["bluesky_reply"],
            self.at(6, 18, 2),
            fake,
            "fr",
            label("impersonation", ItemKind.REPLY),
            parent=doubt,
            likes=1,
        )
        self.add(
            self.bluesky,
            ItemKind.COMMENT,
            texts.IMPERSONATION_WARNINGS[0],
            self.at(5, 11, 48),
            rng.choice(self.fr),
            "fr",
            label("neutral", ItemKind.COMMENT),
            parent=second,
            likes=rng.randint(10, 35),
        )
        del third

        post = self.facebook.posts["elagage-quai"]
        fake_comment = self.add(
            self.facebook,
            ItemKind.COMMENT,
            texts.IMPOSTOR_COMMENTS["facebook"],
            self.clamp(post.created_at, self.at(6, 16, 40)),
            fake,
            "fr",
            label("impersonation", ItemKind.COMMENT),
            parent=post,
            likes=rng.randint(2, 9),
        )
        citizen = rng.choice(self.fr)
        question = self.add(
            self.facebook,
            ItemKind.REPLY,
            texts.IMPERSONATION_QUESTIONS["facebook_reply"],
            self.at(6, 17, 55),
            citizen,
            "fr",
            label("question", ItemKind.REPLY, "other"),
            parent=fake_comment,
            likes=rng.randint(0, 4),
        )
        self.add(
            self.facebook,
            ItemKind.REPLY,
            self.fill(texts.IMPOSTOR_COMMENTS["facebook_reply"], {"prenom": citizen.first_name}),
            self.at(6, 18, 20),
            fake,
            "fr",
            label("impersonation", ItemKind.REPLY),
            parent=question,
        )
        warning = self.facebook.posts["faux-compte-maire"].created_at
        self.answer(
            self.facebook, question, ItemKind.REPLY, texts.IMPERSONATION_ANSWER, IMPERSONATION_ID
        )
        for key, (days_ago, hour, minute) in (
            ("facebook_message", (5, 7, 41)),
            ("facebook_message_2", (4, 15, 3)),
        ):
            message = self.add(
                self.facebook,
                ItemKind.MESSAGE,
                texts.IMPERSONATION_QUESTIONS[key],
                self.at(days_ago, hour, minute),
                rng.choice(self.fr),
                "fr",
                label("question", ItemKind.MESSAGE, "other"),
                to=self.town_facebook,
            )
            self.answer(
                self.facebook,
                message,
                ItemKind.MESSAGE,
                texts.IMPERSONATION_ANSWER,
                IMPERSONATION_ID,
            )
        assert warning > self.at(6, 23, 0)

        post = self.instagram.posts["retour-marche-nocturne"]
        fake_comment = self.add(
            self.instagram,
            ItemKind.COMMENT,
            texts.IMPOSTOR_COMMENTS["instagram"],
            self.clamp(post.created_at, self.at(5, 8, 10)),
            fake,
            "fr",
            label("impersonation", ItemKind.COMMENT),
            parent=post,
            likes=rng.randint(1, 5),
        )
        self.add(
            self.instagram,
            ItemKind.REPLY,
            texts.IMPERSONATION_QUESTIONS["instagram"],
            self.at(5, 9, 2),
            rng.choice(self.fr),
            "fr",
            label("question", ItemKind.REPLY, "other"),
            parent=fake_comment,
        )
        mention = self.add(
            self.mastodon,
            ItemKind.MENTION,
            f"@{self.town_mastodon.handle} {texts.IMPERSONATION_QUESTIONS['mastodon']}",
            self.at(5, 7, 5),
            rng.choice(self.fr),
            "fr",
            label("question", ItemKind.MENTION, "other"),
            likes=rng.randint(2, 8),
            shares=rng.randint(3, 12),
        )
        self.answer(
            self.mastodon, mention, ItemKind.REPLY, texts.IMPERSONATION_ANSWER, IMPERSONATION_ID
        )

    # --- output -----------------------------------------------------------------------------

    def build(self) -> DemoTown:
        self.town_posts()
        self.mayor_posts()
        self.hoax()
        self.campaign()
        self.impersonation()
        # How many items of each category each place gets, and the odds of French, English and
        # Arabic: Facebook is the busiest place, Instagram the most international.
        # fmt: off
        fb, masto, police, insta = (.8, .08, .12), (.84, .13, .03), (.94, .06, 0.), (.7, .22, .08)
        self.comments(self.facebook, {
            "question": 20, "request": 7, "praise": 12, "criticism": 15, "insult": 4,
            "threat": 3, "hate": 5, "spam": 3, "scam": 2, "neutral": 8,
        }, fb)
        self.replies(self.facebook, {
            "answer": 9, "criticism": 3, "praise": 2, "neutral": 2, "insult": 3, "hate": 1,
        }, fb)
        self.messages(self.facebook, {
            "question": 9, "request": 5, "insult": 1, "threat": 2, "scam": 3, "criticism": 1,
        }, fb, answered=6)

        self.comments(self.mastodon, {
            "question": 8, "request": 3, "praise": 5, "criticism": 7, "insult": 2, "threat": 1,
            "hate": 2, "spam": 2, "neutral": 2,
        }, masto)
        self.replies(self.mastodon, {"answer": 4, "criticism": 2, "neutral": 2}, masto)
        self.mentions(self.mastodon, {
            "question": 4, "request": 3, "criticism": 2, "praise": 1, "hate": 1, "spam": 1,
        }, masto, answered=2)
        self.messages(self.mastodon, {"question": 3, "request": 2, "threat": 1}, masto, 2)

        self.comments(self.police, {
            "insult": 3, "threat": 2, "criticism": 4, "praise": 4, "question": 2, "request": 1,
            "neutral": 1, "hate": 1,
        }, police)
        self.replies(self.police, {"answer": 2, "insult": 1}, police)
        self.mentions(self.police, {"request": 2, "insult": 1}, police)

        self.comments(self.instagram, {
            "praise": 10, "question": 6, "neutral": 6, "criticism": 3, "spam": 4, "scam": 3,
            "insult": 1, "hate": 1, "request": 1,
        }, insta)
        self.replies(self.instagram, {"answer": 3, "neutral": 2}, insta)
        self.messages(self.instagram, {"question": 3, "request": 1, "scam": 2, "spam": 1}, insta, 2)

        self.watch_posts({
            "neutral": 8, "criticism": 5, "praise": 3, "question": 2, "hate": 2, "spam": 2,
            "scam": 3, "insult": 2, "threat": 2,
        }, {"neutral": 2, "criticism": 2, "insult": 1, "praise": 1}, (0.77, 0.17, 0.06))
        # fmt: on
        return self.town()

    def town(self) -> DemoTown:
        sources: list[DemoSource] = []
        labels: dict[tuple[str, str], DemoLabel] = {}
        for source in (self.mastodon, self.police, self.facebook, self.instagram, self.bluesky):
            drafts = sorted(source.drafts, key=lambda d: (d.created_at, d.pid))
            items = [self.item(source, d) for d in drafts]
            for draft in drafts:
                labels[(source.name, draft.pid)] = draft.label
            sources.append(
                DemoSource(source.name, source.platform, source.kind, dict(source.settings), items)
            )
        return DemoTown(TOWN_SLUG, TOWN_NAME, "town_hall", "fr", sources, labels, self.identities())

    def identities(self) -> list[DemoIdentity]:
        def handles(*keys: str) -> tuple[str, ...]:
            return tuple(sorted(who.handle for (_, key), who in self.whos.items() if key in keys))

        town_keys = ("town-mastodon", "town-facebook", "town-instagram")
        return [
            DemoIdentity(TOWN_NAME, "organization", handles(*town_keys)),
            DemoIdentity(self.town_police.display, "service", handles("town-police")),
            DemoIdentity(MAYOR, "person", handles("mayor")),
        ]

    def item(self, source: DraftSource, draft: Draft) -> NormalizedItem:
        metrics: dict[str, int] = {}
        if draft.kind != ItemKind.MESSAGE:
            metrics = {"likes": draft.likes, "shares": draft.shares, "replies": draft.children}
        raw = raw_payload(source, draft)
        raw["beffroi_demo_label"] = draft.label.as_dict()
        return NormalizedItem(
            platform_id=draft.pid,
            kind=draft.kind,
            text=draft.text,
            created_at=draft.created_at,
            author=draft.who.author(),
            thread_id=draft.thread_id,
            parent_id=draft.parent_id,
            url=draft.url,
            urls=_urls(draft.text),
            media=draft.media,
            metrics=metrics,
            language=draft.lang,
            raw=raw,
        )


def build_demo_town(now: datetime, *, seed: int = DEMO_SEED) -> DemoTown:
    """Saint-Aubin-sur-Loire and its labelled items over the six weeks before ``now``.

    A naive ``now`` is taken as UTC. The result is the same, byte for byte, for the same
    ``now`` and ``seed``; every item is older than ``now`` and younger than six weeks.
    """
    return _Builder(now, seed).build()
