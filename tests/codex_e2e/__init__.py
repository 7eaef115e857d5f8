"""Helpers for running the real Codex CLI end to end against local fakes."""
