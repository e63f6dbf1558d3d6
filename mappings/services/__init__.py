"""Writes to the mapping tables, the reference cache and uploads (HackSoft style)."""

from mappings.services.reference import reference_cache_refresh
from mappings.services.rows import (
    account_role_mapping_create,
    cost_code_mapping_create,
    currency_mapping_create,
    mapping_create,
    mapping_delete,
    mapping_update,
    project_mapping_create,
    vendor_mapping_create,
    vendor_suggestions_confirm,
)
from mappings.services.uploads import (
    UploadRefused,
    upload_apply,
    upload_discard,
    upload_errors,
    upload_plan,
    upload_preview,
)

__all__ = [
    "UploadRefused",
    "reference_cache_refresh",
    "upload_apply",
    "upload_discard",
    "upload_errors",
    "upload_plan",
    "upload_preview",
    "vendor_suggestions_confirm",
    "account_role_mapping_create",
    "cost_code_mapping_create",
    "currency_mapping_create",
    "mapping_create",
    "mapping_delete",
    "mapping_update",
    "project_mapping_create",
    "vendor_mapping_create",
]
