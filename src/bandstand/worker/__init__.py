"""Background jobs: the queue, retries, periodic jobs, and the worker that runs them."""
