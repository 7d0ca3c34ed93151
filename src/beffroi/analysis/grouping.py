"""Keys joined into groups (union-find): rows that share a template, items that share a claim."""

from __future__ import annotations

__all__ = ["Groups"]


class Groups:
    """Each key starts alone; :meth:`join` puts two keys' groups together; :meth:`find` names
    a key's group by one of its keys (the same for every key of the group)."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        parent = self._parent
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]  # halve the path on the way up
            key = parent[key]
        return key

    def join(self, key: str, other: str) -> None:
        self._parent[self.find(key)] = self.find(other)
