"""Slash commands: ``/codex`` parsing and thin handlers (the Bolt listeners that call them: codex_bot.slack.listeners)."""
