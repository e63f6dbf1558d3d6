"""The mapping tables. Each row belongs to one ERP connection (NetSuite or QuickBooks).

Blank means "applies to all" for `subsidiary_id` and `procore_project_id`, and "any cost
type" for `cost_type`; a null `effective_from` means "since always". Blanks are stored as ""
(not NULL) so the uniqueness constraints treat them as a value.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from sync.models import Kind

ERP_KINDS = {"kind__in": [Kind.NETSUITE, Kind.QUICKBOOKS]}


class AccountRole(models.TextChoices):
    ACCOUNTS_PAYABLE = "accounts_payable", "Accounts payable"
    ACCOUNTS_RECEIVABLE = "accounts_receivable", "Accounts receivable"
    RETENTION_PAYABLE = "retention_payable", "Retention payable"
    RETENTION_RECEIVABLE = "retention_receivable", "Retention receivable"
    SUSPENSE = "suspense", "Suspense / default"


class MappingBase(models.Model):
    connection = models.ForeignKey(
        "sync.Connection",
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to=ERP_KINDS,
        help_text="The ERP connection (NetSuite or QuickBooks) this row belongs to.",
    )
    notes = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ProjectMapping(MappingBase):
    procore_project_id = models.CharField("Procore project id", max_length=40)
    erp_customer_id = models.CharField("ERP customer id", max_length=40)
    erp_job_id = models.CharField(
        "ERP job id",
        max_length=40,
        blank=True,
        default="",
        help_text="QuickBooks sub-customer or NetSuite job/project; blank when none.",
    )
    subsidiary_id = models.CharField("subsidiary id", max_length=40, blank=True, default="")
    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. USD.")
    class_id = models.CharField("class id", max_length=40, blank=True, default="")
    department_id = models.CharField("department id", max_length=40, blank=True, default="")
    location_id = models.CharField("location id", max_length=40, blank=True, default="")

    class Meta:
        ordering = ["connection", "procore_project_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "procore_project_id"], name="mappings_project_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Procore project {self.procore_project_id} → customer {self.erp_customer_id}"


class CostCodeMapping(MappingBase):
    cost_code = models.CharField(max_length=60, help_text="Procore cost code, e.g. 03-300.")
    cost_type = models.CharField(
        max_length=20, blank=True, default="", help_text="Procore cost type code; blank = any."
    )
    subsidiary_id = models.CharField(
        "subsidiary id", max_length=40, blank=True, default="", help_text="Blank = all."
    )
    procore_project_id = models.CharField(
        "Procore project id",
        max_length=40,
        blank=True,
        default="",
        help_text="Set for a project-level override; blank = company-wide.",
    )
    effective_from = models.DateField(
        null=True, blank=True, help_text="First day this row applies; blank = always."
    )
    item_id = models.CharField("ERP item id", max_length=40, blank=True, default="")
    account_id = models.CharField("ERP account id", max_length=40, blank=True, default="")
    class_id = models.CharField("ERP class id", max_length=40, blank=True, default="")

    class Meta:
        ordering = ["connection", "cost_code", "cost_type", "procore_project_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "connection",
                    "cost_code",
                    "cost_type",
                    "subsidiary_id",
                    "procore_project_id",
                    "effective_from",
                ],
                name="mappings_cost_code_unique",
            ),
            # NULL never equals NULL in a unique index: one "since always" row per key.
            models.UniqueConstraint(
                fields=[
                    "connection",
                    "cost_code",
                    "cost_type",
                    "subsidiary_id",
                    "procore_project_id",
                ],
                condition=Q(effective_from__isnull=True),
                name="mappings_cost_code_unique_always",
            ),
            models.CheckConstraint(
                condition=~Q(item_id="") | ~Q(account_id=""),
                name="mappings_cost_code_has_target",
            ),
        ]
        indexes = [models.Index(fields=["connection", "cost_code"])]

    def __str__(self) -> str:
        code = f"{self.cost_code}/{self.cost_type}" if self.cost_type else self.cost_code
        scope = f" on project {self.procore_project_id}" if self.procore_project_id else ""
        return f"Cost code {code}{scope}"


class VendorMapping(MappingBase):
    procore_vendor_id = models.CharField("Procore vendor id", max_length=40)
    erp_vendor_id = models.CharField("ERP vendor id", max_length=40)
    # NetSuite OneWorld: the subsidiaries the vendor is assigned to (ids as strings).
    subsidiary_ids = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["connection", "procore_vendor_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "procore_vendor_id"], name="mappings_vendor_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Procore vendor {self.procore_vendor_id} → ERP vendor {self.erp_vendor_id}"


class AccountRoleMapping(MappingBase):
    role = models.CharField(max_length=30, choices=AccountRole.choices)
    subsidiary_id = models.CharField(
        "subsidiary id", max_length=40, blank=True, default="", help_text="Blank = all."
    )
    effective_from = models.DateField(
        null=True, blank=True, help_text="First day this row applies; blank = always."
    )
    account_id = models.CharField("ERP account id", max_length=40)

    class Meta:
        ordering = ["connection", "role", "subsidiary_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "role", "subsidiary_id", "effective_from"],
                name="mappings_account_role_unique",
            ),
            models.UniqueConstraint(
                fields=["connection", "role", "subsidiary_id"],
                condition=Q(effective_from__isnull=True),
                name="mappings_account_role_unique_always",
            ),
        ]

    def __str__(self) -> str:
        where = f" (subsidiary {self.subsidiary_id})" if self.subsidiary_id else ""
        return f"{self.get_role_display()}{where} → account {self.account_id}"


class CurrencyMapping(MappingBase):
    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. CAD.")
    erp_currency_id = models.CharField("ERP currency id", max_length=40)

    class Meta:
        ordering = ["connection", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "currency"], name="mappings_currency_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.currency} → ERP currency {self.erp_currency_id}"
