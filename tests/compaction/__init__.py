"""Tests of compaction/: the commit protocol, normalization, schema drift across compactions."""
