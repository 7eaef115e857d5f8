"""codex-bot: OpenAI Codex telemetry in Slack (slash commands, alerts, digests) over Prometheus."""

__version__ = "0.1.0"
