"""inputs/ — read the configuration folder: session and centre files (strict YAML, French
problems naming file and field), the service settings (``syncsvc.toml``) and their secrets, and
the one watcher that reloads what changed.
"""
