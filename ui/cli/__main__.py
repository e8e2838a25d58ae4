"""``python -m ui.cli``: the ``rag`` command."""

from ui.cli import main

main()
