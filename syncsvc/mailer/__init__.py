"""Mail: reminders, alerts, digests and jury invitations through an outbox. Not built yet."""
