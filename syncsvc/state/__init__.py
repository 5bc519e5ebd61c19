"""state/ — write the database: the schema and its migrations, the :class:`~syncsvc.state.store.Store`
assembled from one small part per concern, and the instance lock.
"""
