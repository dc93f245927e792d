"""Checking and transforming media files (images now; audio with the songs issue)."""
