from tests.fakes.alert_receivers import server, smtp_server  # noqa: F401 (fixtures)
