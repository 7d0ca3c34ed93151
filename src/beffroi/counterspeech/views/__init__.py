"""The counter-speech library's pages, under ``/o/<slug>/counter-speech/``."""
