"""Payment-provider webhooks: the signing scheme and the event shape (pure, no I/O)."""
