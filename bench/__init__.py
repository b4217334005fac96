"""Benchmarks: each ``bench_*.py`` prints its figures; ``python -m bench`` runs them all."""
