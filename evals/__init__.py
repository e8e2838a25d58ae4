"""Offline evaluation of Statements Q&A: cases, metrics, report and the regression gate.

``pytest evals/`` runs every case once and fails when a metric falls below its floor in
``evals/thresholds.toml``; ``python -m evals.harness`` runs the same set from the shell.
"""
