"""Slack: the Bolt app, Block Kit rendering, and message delivery (Slack or console)."""
