"""Input serializers: strict at the edge, so a typo in a field name is an error, not a no-op."""

from datetime import datetime

from rest_framework import serializers

from core.timestamps import utc_offset_error


class InputSerializer(serializers.Serializer):
    """Refuses fields it does not declare (DRF ignores them by default)."""

    def to_internal_value(self, data: object) -> dict:
        if isinstance(data, dict):
            unknown = sorted(set(data) - {name for name, field in self.fields.items() if not field.read_only})
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: ["Unknown field. Allowed fields: " + ", ".join(sorted(self.fields)) + "."]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """The date-time of every input: refuses a UTC offset the database cannot store."""

    def enforce_timezone(self, value: datetime) -> datetime:
        # DRF passes every parsed input through here with its offset still on, then converts it.
        if problem := utc_offset_error(value):
            raise serializers.ValidationError(problem, code="invalid")
        return super().enforce_timezone(value)
