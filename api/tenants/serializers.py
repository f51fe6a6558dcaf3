"""Input and output shapes of the tenancy endpoints. Outputs list their fields explicitly."""

from django.utils import timezone
from rest_framework import serializers

from api.input import AwareDateTimeField, InputSerializer
from tenants.models import ApiKey, Partner, PartnerKind, Tenant


class TenantOutput(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["slug", "name", "created_at"]


class PartnerBriefOutput(serializers.ModelSerializer):
    class Meta:
        model = Partner
        fields = ["id", "name", "kind"]


class PartnerOutput(serializers.ModelSerializer):
    class Meta:
        model = Partner
        fields = ["id", "name", "kind", "contact_email", "description", "is_active", "created_at", "updated_at"]


class PartnerCreateInput(InputSerializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=PartnerKind.choices)
    contact_email = serializers.EmailField(required=False, default="", allow_blank=True, max_length=254)
    description = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)
    is_active = serializers.BooleanField(required=False, default=True)


class PartnerUpdateInput(InputSerializer):
    """The kind is fixed at creation: grants and keys were given for it."""

    name = serializers.CharField(max_length=200, required=False)
    contact_email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    is_active = serializers.BooleanField(required=False)


class ApiKeyOutput(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=["active", "expired", "revoked"], read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "status", "expires_at", "revoked_at", "last_used_at", "created_at"]


class ApiKeyCreatedOutput(ApiKeyOutput):
    key = serializers.CharField(read_only=True, help_text="The full key. Shown this once; store it now.")

    class Meta(ApiKeyOutput.Meta):
        fields = [*ApiKeyOutput.Meta.fields, "key"]


class ApiKeyCreateInput(InputSerializer):
    name = serializers.CharField(max_length=100)
    expires_at = AwareDateTimeField(
        required=False, help_text="When the key stops working; default: one year (API_KEY_DEFAULT_TTL_DAYS)."
    )

    def validate_expires_at(self, value):  # noqa: ANN001, ANN201 - DRF hook
        if value <= timezone.now():
            raise serializers.ValidationError("The expiry must be in the future.")
        return value


class MeApiKeyOutput(serializers.Serializer):
    id = serializers.UUIDField()
    prefix = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)


class MeUserOutput(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.EmailField(allow_blank=True, help_text="Empty when the user has none on file.")


class MeOutput(serializers.Serializer):
    tenant = TenantOutput()
    kind = serializers.ChoiceField(choices=["staff", "partner"])
    role = serializers.CharField(allow_null=True, help_text="The staff role (admin, planner, analyst), if staff.")
    user = MeUserOutput(allow_null=True)
    partner = PartnerBriefOutput(allow_null=True)
    api_key = MeApiKeyOutput(allow_null=True, help_text="The key this request came with, if any.")


class TenantMembershipOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    access = serializers.CharField(help_text="Your role there, or your partner kind.")
