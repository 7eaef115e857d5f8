"""Talking to Prometheus: the HTTP client, PromQL building and escaping, time ranges."""
