"""Tests of export/: datasets from frames and from lakes (snapshots, provenance, byte-identical
repeats)."""
