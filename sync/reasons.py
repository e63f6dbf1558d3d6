"""Why a change stops for a person: stable codes, plain-language explanations, the fix offered.

Codes are stored on Changes and ExceptionItems and filtered on by the queue; never rename one
(add a new code instead). ``explain(code, **facts)`` fills the template with what the flow
knows; a missing fact leaves its placeholder's name in braces rather than failing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    title: str
    template: str
    fix: str
    # "held": waits for a decision before anything is written; "dead_letter": a write was
    # tried and failed, replayable after a fix.
    kind: str = "held"


REASONS: dict[str, Reason] = {
    r.code: r
    for r in (
        Reason(
            "UNMAPPED_PROJECT",
            "Project not mapped",
            "Procore project {project} has no ERP customer/job mapping for this connection.",
            "Add the project mapping; the item is re-checked as soon as it exists.",
        ),
        Reason(
            "UNMAPPED_COST_CODE",
            "Cost code not mapped",
            "Cost code {cost_code} (cost type {cost_type}) has no ERP item or account "
            "in subsidiary {subsidiary}.",
            "Add the cost code mapping; the item is re-checked as soon as it exists.",
        ),
        Reason(
            "UNMAPPED_ACCOUNT",
            "Account not mapped",
            "No ERP account is mapped for {role} in subsidiary {subsidiary}.",
            "Add the account mapping; the item is re-checked as soon as it exists.",
        ),
        Reason(
            "UNMAPPED_CURRENCY",
            "Currency not mapped",
            "Currency {currency} has no ERP currency mapping.",
            "Add the currency mapping; the item is re-checked as soon as it exists.",
        ),
        Reason(
            "UNKNOWN_VENDOR",
            "Vendor not linked",
            "Procore vendor {vendor} is not linked to an ERP vendor.{suggestion}",
            "Link it to an existing ERP vendor, or approve creating it in the ERP.",
        ),
        Reason(
            "VENDOR_NOT_IN_SUBSIDIARY",
            "Vendor not in the project's subsidiary",
            "ERP vendor {vendor} is not assigned to subsidiary {subsidiary}, which project "
            "{project} books to.",
            "Assign the vendor to the subsidiary in NetSuite, then retry.",
        ),
        Reason(
            "REVISION_AFTER_APPROVAL",
            "Revision after approval",
            "{document} changed in Procore after its ERP purchase order was approved ({strategy}).",
            "Review the before/after and approve the revision, or reject it.",
        ),
        Reason(
            "OVER_COMMITMENT",
            "Over the commitment",
            "{document} bills {amount}, more than the commitment's remaining {remaining}, "
            "or its lines do not add up to the header.",
            "Correct the pay application in Procore, or approve it as is.",
        ),
        Reason(
            "ERP_EDITED",
            "Edited in the ERP",
            "{document} was changed in the ERP since our last sync; nothing was overwritten.",
            "Compare last synced / ERP now / proposed, then overwrite the ERP or keep its copy.",
        ),
        Reason(
            "APPROVAL_THRESHOLD",
            "Above the approval threshold",
            "{document} is {amount}, above the {threshold} that needs a controller's approval.",
            "Approve or reject.",
        ),
        Reason(
            "SOURCE_DELETED",
            "Deleted or voided in Procore",
            "{document} was deleted or voided in Procore; its ERP copy {erp_id} still exists.",
            "Approve voiding the ERP document, or reject to keep it.",
        ),
        Reason(
            "SUSPECTED_DUPLICATE",
            "Possible duplicate",
            "The ERP already holds {erp_type} {erp_number} (id {erp_id}) for this vendor, not "
            "linked to Procore{amounts}.",
            "Link to the existing ERP document instead of creating a new one, or create anyway.",
        ),
        Reason(
            "WRITE_REJECTED",
            "Refused by the ERP",
            "The ERP refused the write: {message}",
            "Fix the cause (mapping, data in Procore or the ERP), then retry.",
            kind="dead_letter",
        ),
        Reason(
            "RETRIES_EXHAUSTED",
            "ERP not answering",
            "The ERP did not answer after several attempts: {message}",
            "Retry later; the write is idempotent, retrying cannot duplicate it.",
            kind="dead_letter",
        ),
        Reason(
            "RECONCILIATION_DRIFT",
            "Systems disagree",
            "Reconciliation found {document} differs between Procore and the ERP: {difference}.",
            "Review both copies and re-sync or correct one side.",
        ),
    )
}


class _Facts(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def reason(code: str) -> Reason:
    return REASONS[code]


def explain(code: str, **facts: object) -> str:
    facts.setdefault("suggestion", "")
    facts.setdefault("amounts", "")
    return REASONS[code].template.format_map(_Facts({k: str(v) for k, v in facts.items()}))
