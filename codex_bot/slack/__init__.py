"""Slack specifics: the Bolt app and its listeners, Block Kit rendering, the Web API client and transport, serve."""
