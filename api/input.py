"""Input serializers: strict at the edge, so a typo in a field name is an error, not a no-op."""

from rest_framework import serializers


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
