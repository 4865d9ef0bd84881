"""Verdicts and narratives: pure functions of an experiment\x27s result, one module per experiment."""
