"""Analysis code: plain Python over plain data, no web framework (see docs/architecture.md)."""
