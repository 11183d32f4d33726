"""`python -m bench [--smoke]`: run the benchmark, print each figure beside its target."""

from bench.harness import main

main()
