"""Benchmarks: numbers only, run by hand (`python -m benchmarks.bench_...`)."""
