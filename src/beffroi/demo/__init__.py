"""Demonstration data written by the project itself.

:func:`beffroi.demo.town.build_demo_town` generates Saint-Aubin-sur-Loire, a fictional French
town, with six weeks of labelled social-media items (questions, criticism, insults, a hoax, a
copy-paste campaign, an impersonator…) for demos, screenshots and evaluation. It is
deterministic, needs no network and no external data.
"""

from __future__ import annotations

from beffroi.demo.town import DemoLabel, DemoSource, DemoTown, build_demo_town

__all__ = ["DemoLabel", "DemoSource", "DemoTown", "build_demo_town"]
