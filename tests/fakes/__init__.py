"""Loopback fakes of the platforms the connectors talk to."""
