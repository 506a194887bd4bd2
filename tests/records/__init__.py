"""Tests of records/: record validation and the envelope, the infotext."""
