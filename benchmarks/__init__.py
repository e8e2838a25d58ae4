"""Benchmarks of Statements Q&A: ``python -m benchmarks --help``."""
