"""`make bench`: the pipeline measured end to end on real parts (see bench/harness.py)."""
