"""Use cases: the runner lifecycle, written against the ports only."""
