"""The run loop: scheduling, failures and retries, records, checkpoint and resume."""
