"""Beffroi: a self-hosted command center for the community managers of public institutions."""

__version__ = "0.1.0"
