"""``codex-bot demo``: a simulated Codex fleet, a real Prometheus and chart renderer, and the bot answering."""
