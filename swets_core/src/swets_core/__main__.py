"""``python -m swets_core`` runs the ``swets`` command line."""

from swets_core.cli import run

run()
