"""The test suite. Folders mirror the package (tests/<stage>/), plus reliability/; each
folder's conftest.py holds its fixtures and helpers.py its helper functions, imported as
``from tests.<folder>.helpers import ...``."""
