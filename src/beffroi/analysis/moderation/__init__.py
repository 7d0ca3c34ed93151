"""Moderation analysis: plain Python over plain text, usable without Django.

Pipeline: :mod:`.normalize` (undo evasions) → detectors (:mod:`.rules`, :mod:`.classifier`,
the optional :mod:`.backends`) → :class:`~.signals.Signal` lists that the decision engine of
:mod:`beffroi.moderation` turns into decisions by the organization's charter.
"""
