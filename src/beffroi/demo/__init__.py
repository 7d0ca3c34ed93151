"""Demonstration data written by the project itself.

:func:`beffroi.demo.builder.build_demo_town` generates Saint-Aubin-sur-Loire, a fictional French
town, with six weeks of labelled social-media items (questions, criticism, insults, a hoax, a
copy-paste campaign, an impersonator…) for demos, screenshots and evaluation. It is
deterministic, needs no network and no external data: the texts are YAML files of
:mod:`beffroi.demo.texts`, the types of the result are in :mod:`beffroi.demo.town`, and
:mod:`beffroi.demo.load` stores it.
"""

from __future__ import annotations

from beffroi.demo.builder import build_demo_town
from beffroi.demo.town import DemoLabel, DemoSource, DemoTown

__all__ = ["DemoLabel", "DemoSource", "DemoTown", "build_demo_town"]
