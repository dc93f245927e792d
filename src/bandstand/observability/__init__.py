"""Metrics (Prometheus, ``/metrics``) and what ties a request's log lines to its jobs'."""
