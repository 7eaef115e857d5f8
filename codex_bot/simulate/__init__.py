"""The synthetic Codex fleet and its ground truth, for the demo, the tests and the benchmarks."""
