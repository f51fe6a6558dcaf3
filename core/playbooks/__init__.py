"""Playbooks: what an alert's grade calls for and carrying it out.

``recommend`` picks the response at evaluation time (the alerts engine asks through its
``grade_response`` hook), ``pricing`` figures markdowns and clearance ladders, ``records`` keeps the
playbook records a planner decides on, ``acceptance`` records the decision (an accepted transfer
becomes a transfer request), ``consumer`` answers alert events from the outbox (RFQs, records) and
sweeps what they missed, ``selectors`` reads the records.
"""
