"""Retrieval: keyword index, vector search, fusion and ranking, and the background snapshot refresh."""

from assistant.retrieval.keywords import tokenize
from assistant.retrieval.ranking import best_per_source
from assistant.retrieval.retriever import Retriever
from assistant.retrieval.snapshot import CatalogIndex, CatalogSnapshot

__all__ = ["CatalogIndex", "CatalogSnapshot", "Retriever", "best_per_source", "tokenize"]
