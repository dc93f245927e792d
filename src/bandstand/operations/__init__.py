"""What an operator runs around a live installation: backups, restores, health checks.

Each module is one command's logic (``cli.py`` only wires it); ``Refused`` is what they
raise when the operator has something to fix first, said in one line.
"""

from __future__ import annotations


class Refused(Exception):
    """The operation did not start (or stopped before it changed anything): the message
    says what to fix, in one line."""
