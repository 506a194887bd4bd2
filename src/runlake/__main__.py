"""``python -m runlake`` runs the command line."""

from runlake.cli import main

main()
