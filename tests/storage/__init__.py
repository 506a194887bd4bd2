"""Tests of storage/: the layout on disk, table names, the default root."""
