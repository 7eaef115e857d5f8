"""Codex OTLP log events → Prometheus series: parsing, aggregation, ingest, backfill."""
