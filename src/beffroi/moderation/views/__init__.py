"""Moderation pages: the review queue, a case, appeals, the decisions log, DSA statements,
evidence dossiers and the classifier versions, one module each (``common`` holds what they
share: the flash with its undo, the charter's categories, the way to the next case).

Who may do what: working the queue, deciding, recording and judging appeals, downloading
dossiers and DSA statements need MODERATE (moderators and administrators); the classifier
versions need MANAGE; every member sees the read-only moderation panel of an item page.

The queue is made for people who do this all day: opening a case claims it (two moderators
never work on the same one), each decision leads straight to the next case, claimed
atomically, and the last decision can be undone from anywhere. The rules themselves live in
:mod:`beffroi.moderation.services`; these views only translate requests and show errors.
"""
