"""Tests of importers/: StableNew logs and PNG folders, idempotent re-imports."""
