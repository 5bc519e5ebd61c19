"""mailer/ — talk to mail servers: transports that take envelopes (recipients and bytes) and
report each outcome as :class:`~syncsvc.mailer.smtp.Sent` or an error of :mod:`syncsvc.errors`.
"""
