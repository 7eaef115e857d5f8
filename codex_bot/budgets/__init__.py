"""Monthly budgets: spend or tokens per team, model or user against thresholds, with a month-end forecast."""
