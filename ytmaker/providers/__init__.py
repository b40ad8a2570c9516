"""Providers: small protocols, each with a real and an offline implementation."""
