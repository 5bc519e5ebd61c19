"""daemon/ — ``syncsvc run``, the long-running face: the scheduler's jobs, the instance lease,
the web server, the logs."""

from syncsvc.daemon.logs import setup_logging
from syncsvc.daemon.service import Daemon, utcnow

__all__ = ["Daemon", "setup_logging", "utcnow"]
