"""Tests of analysis/: fresh scans, compare, ratings, SQL and stats, plots and the report."""
