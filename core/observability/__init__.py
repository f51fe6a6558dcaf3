"""What an operator watches: ``/metrics`` for Prometheus, one structured log line per request and per
task (docs/operations.md, Metrics and logs)."""
