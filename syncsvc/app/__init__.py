"""app/ — use cases: the only rooms where the store meets the adapters. Sync (fetch, decide,
apply), feeds, notify (queue and drain the outbox), marks, the dashboard's board, the process's
status.
"""
