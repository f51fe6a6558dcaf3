"""Data: the free-text dismissal reasons written before reasons had structure become ``other`` with the
text as the note (on the alert, and on the timeline's dismissal events). Backwards the note is the
reason again; a structured reason without a note keeps its code as its text."""

from django.db import migrations

FORWARD = """
UPDATE alerts_alert SET dismissed_note = dismissed_reason, dismissed_reason = 'other'
 WHERE dismissed_reason <> '';
UPDATE alerts_alertevent SET data = data || '{"reason": "other"}'::jsonb
 WHERE kind = 'dismissed' AND NOT data ? 'reason';
"""

BACKWARD = """
UPDATE alerts_alert SET dismissed_reason = CASE WHEN dismissed_note <> '' THEN dismissed_note ELSE dismissed_reason END,
       dismissed_note = ''
 WHERE dismissed_reason <> '';
UPDATE alerts_alertevent SET data = data - 'reason' WHERE kind = 'dismissed';
"""


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0008_alert_dismissed_note"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
