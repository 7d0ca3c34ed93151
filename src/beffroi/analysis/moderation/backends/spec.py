"""Backend specifications: ``kind:target?option=value&…`` strings, as in the environment."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from beffroi.analysis.moderation.backends.errors import BackendConfigurationError
from beffroi.analysis.moderation.backends.labels import LabelMap, check_category, parse_label_map

KINDS = ("hf", "detoxify", "openai")
# Several specifications in one variable: split on ';' or new lines, and on a ',' that starts
# a new specification (options may hold commas themselves: label=toxic,hateful).
_SEPARATOR = re.compile(r"[;\n]+|,(?=\s*(?:" + "|".join(KINDS) + r"):)")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def split_specs(value: str) -> list[str]:
    """The specifications in one environment value, blanks and ``#`` comments left out."""
    return [
        part.strip()
        for part in _SEPARATOR.split(value)
        if part.strip() and not part.strip().startswith("#")
    ]


@dataclass(frozen=True)
class BackendSpec:
    """One parsed specification; ``options`` keep the last value given for each name."""

    kind: str
    target: str
    options: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str) -> BackendSpec:
        kind, sep, rest = spec.strip().partition(":")
        kind = kind.strip().lower()
        if not sep or kind not in KINDS:
            raise BackendConfigurationError(
                f"Moderation backend '{spec}': it must start with one of "
                f"{', '.join(k + ':' for k in KINDS)} (e.g. hf:unitary/toxic-bert)."
            )
        target, _, query = rest.partition("?")
        if not target.strip():
            raise BackendConfigurationError(
                f"Moderation backend '{spec}': say which model or address after '{kind}:'."
            )
        options = dict(parse_qsl(query, keep_blank_values=True))
        if "api_key" in options or "key" in options:
            raise BackendConfigurationError(
                "An API key never goes in the backend specification (it would show in logs): "
                "set BEFFROI_OPENAI_API_KEY, or api_key_env=<variable name>."
            )
        return cls(kind, target.strip(), options)


class Options:
    """Typed access to a specification's options; unknown names are refused (typos)."""

    def __init__(self, spec: BackendSpec, allowed: Iterable[str]) -> None:
        allowed = frozenset(allowed)
        unknown = sorted(set(spec.options) - allowed)
        if unknown:
            raise BackendConfigurationError(
                f"Moderation backend '{spec.kind}:{spec.target}': unknown option(s) "
                f"{', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}."
            )
        self.spec = spec
        self.raw = spec.options

    def _fail(self, name: str, expected: str) -> BackendConfigurationError:
        return BackendConfigurationError(
            f"Moderation backend '{self.spec.kind}:{self.spec.target}': option {name}="
            f"'{self.raw[name]}' should be {expected}."
        )

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name, "").strip()
        return value or default

    def integer(self, name: str, default: int, *, minimum: int = 1) -> int:
        if not self.raw.get(name, "").strip():
            return default
        try:
            value = int(self.raw[name])
        except ValueError:
            raise self._fail(name, f"a whole number ≥ {minimum}") from None
        if value < minimum:
            raise self._fail(name, f"a whole number ≥ {minimum}")
        return value

    def number(self, name: str, default: float, *, low: float = 0.0, high: float = 1e9) -> float:
        if not self.raw.get(name, "").strip():
            return default
        try:
            value = float(self.raw[name])
        except ValueError:
            raise self._fail(name, f"a number between {low:g} and {high:g}") from None
        if not low <= value <= high:
            raise self._fail(name, f"a number between {low:g} and {high:g}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw.get(name, "").strip().lower()
        if not value:
            return default
        if value in _TRUE | _FALSE:
            return value in _TRUE
        raise self._fail(name, "true or false")

    def choice(self, name: str, choices: Iterable[str]) -> str | None:
        value = self.text(name)
        allowed = tuple(choices)
        if value is not None and value not in allowed:
            raise self._fail(name, "one of " + ", ".join(allowed))
        return value

    def listing(self, name: str) -> list[str] | None:
        value = self.text(name)
        if value is None:
            return None
        return [item.strip() for item in value.split(",") if item.strip()]

    def category(self, name: str = "category") -> str | None:
        value = self.text(name)
        return check_category(value) if value is not None else None

    def label_map(self, name: str = "map") -> LabelMap:
        value = self.text(name)
        return parse_label_map(value) if value is not None else {}
