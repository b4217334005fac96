"""Metrics, log set-up and the request/job context that ties one job's log lines together."""
