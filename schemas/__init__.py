"""Pydantic models of what crosses ketenhub's boundaries: partner payloads, envelope, codes."""
