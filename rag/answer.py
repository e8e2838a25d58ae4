"""The answerer, by its historical module name: see ``rag.pipeline``."""

from rag.pipeline import Answerer, clean_question

__all__ = ["Answerer", "clean_question"]
