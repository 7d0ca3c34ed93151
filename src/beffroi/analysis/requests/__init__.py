"""Citizens' requests: is a message a request or complaint for the institution
(:mod:`.detect`), which service should handle it (:mod:`.routing`), the corpus the models
learn from (:mod:`.corpus`) and the measure on labelled files (:mod:`.evaluate`)."""
