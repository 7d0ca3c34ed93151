"""Counter-speech: suggest replies from a library of vetted answers to a hateful post, in
the author's language first. Plain Python over plain data:
:class:`~.retrieval.CounterSpeechIndex` is usable from a notebook on a list of entries;
:mod:`.evaluate` measures it on hate speech / reply pairs (CONAN-style CSV files)."""
