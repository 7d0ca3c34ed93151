"""Claims: match incoming items to a library of checked claims (fact-checks), across
languages. Plain Python over plain data: :class:`~.retrieval.ClaimIndex` is usable from a
notebook on a list of texts; :mod:`.evaluate` measures it on CLEF CheckThat! files."""
