"""Delivery apart from Slack: the transport-neutral message model, the transport interface, the console
transport and the durable outbox (render → outbox → send with retry → record)."""
