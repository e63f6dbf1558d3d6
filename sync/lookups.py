"""The mapping lookups the flows use (``mappings.lookups``, owned by the mappings app).

Re-exported here so the engine has one import point and tests can build the same targets.
"""

from mappings.lookups import (
    CostTarget,
    MappingLookup,
    MappingMissing,
    ProjectTarget,
    VendorTarget,
)

__all__ = ["CostTarget", "MappingLookup", "MappingMissing", "ProjectTarget", "VendorTarget"]
