"""The dashboard panels: one catalog of typed queries over the metric contract."""
