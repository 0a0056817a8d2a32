"""Scheduled jobs (APScheduler 3.x): each run is claimed once in the ledger before it acts."""
