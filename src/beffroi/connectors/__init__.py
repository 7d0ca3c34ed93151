"""Platform connectors behind one contract (see :mod:`beffroi.connectors.base`)."""
