"""Bandstand: a self-hostable music platform for independent artists."""

__version__ = "0.1.0"
