"""Tests of append/: appends, batches, writers, segments, torn tails, reads of the raw zone,
status."""
