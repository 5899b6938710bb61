"""Benchmark pieces behind tools/benchmark.py: machine description and peak, timed cases per method, the PyTorch
SNGAN reference, profiling experiments and the JSON / Markdown report."""
