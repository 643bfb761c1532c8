"""Writes of prints, one module a job (HackSoft's "Modules"); import from the module that does it.

- ``lifecycle``: ``print_start`` and ``print_finish``, the one place a print starts and ends.
- ``predict``: ``print_snapshot_predict``, one snapshot scored and counted in the current print.
- ``alerts``: ``print_escalate``, when a print rises into warning or failure, with its alert and
  snapshot; ``alert_feedback_set``, the owner's answer.
- ``files``: alert files, deleted when the transaction that wrote them fails, pruned with their
  alerts and swept when no alert names them.
- ``events``: the webhook events of a print and what they carry.
"""
