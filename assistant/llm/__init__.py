"""LLM backends behind one small interface, chosen by configuration."""

from assistant.llm.base import BackendHealth, GenerationOptions, LLMBackend
from assistant.llm.registry import BackendRegistry

__all__ = ["BackendHealth", "BackendRegistry", "GenerationOptions", "LLMBackend"]
