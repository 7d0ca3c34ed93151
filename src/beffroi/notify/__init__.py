"""Sending alerts out of the application (e-mail, webhooks, Matrix); no Django needed."""
