"""Standalone scripts the benchmark runs in fresh processes, under either system's
interpreter. Each prints one JSON object as its last line of output."""
