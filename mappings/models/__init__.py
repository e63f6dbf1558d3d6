"""Mapping tables, the ERP/Procore reference cache, uploads and the change history."""

from mappings.models.history import MappingChange, MappingUpload, UploadStatus
from mappings.models.reference import ReferenceRecord
from mappings.models.tables import (
    AccountRole,
    AccountRoleMapping,
    CostCodeMapping,
    CurrencyMapping,
    ProjectMapping,
    VendorMapping,
)

__all__ = [
    "AccountRole",
    "AccountRoleMapping",
    "CostCodeMapping",
    "CurrencyMapping",
    "MappingChange",
    "MappingUpload",
    "ProjectMapping",
    "ReferenceRecord",
    "UploadStatus",
    "VendorMapping",
]
