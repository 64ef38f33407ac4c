"""Evaluator exports: study-pseudonymised, coarsened, k-anonymous case-level datasets."""
