"""The briefs' pages: the sender's (``briefs``), the partner's (``received``), the partners'."""
