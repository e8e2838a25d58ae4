"""The faces: the ``rag`` command (``ui.cli``) and the Gradio app (``ui.web``), both thin
adapters over ``rag`` and ``ingest``; ``ui.render`` is what they share."""
