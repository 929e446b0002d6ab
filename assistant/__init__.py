"""Backchat Assistant: answers questions about a Backstage portal from its catalog and TechDocs."""

__version__ = "0.1.0"
