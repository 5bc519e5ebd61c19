"""state/ — write the database: the schema and its migrations, the store assembled from one
small part per concern (:class:`~syncsvc.state.store.Store`), and the instance lock.
"""
