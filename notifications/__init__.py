"""Background jobs and delivery channels; reads outbox rows written by ``hotline``."""
