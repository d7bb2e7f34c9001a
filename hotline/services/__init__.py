"""Use cases. Each takes a session and ``now``, flushes but never commits: the caller owns the
transaction (one per request or job)."""
