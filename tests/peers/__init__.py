"""Servers that speak a real peer's wire format, for peers that cannot run here."""
