"""The mappings pages and the admin, as users see them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mappings.models import CostCodeMapping, MappingChange, ReferenceRecord, VendorMapping
from tests.factories import TEST_PASSWORD
from tests.mappings.conftest import add_refs

pytestmark = pytest.mark.django_db


def login(client, user):
    client.login(username=user.username, password=TEST_PASSWORD)
    return client


def test_nav_shows_mappings_to_integration_admins_only(client, integration_admin, project_manager):
    page = login(client, integration_admin).get(reverse("home"))
    assert 'href="/mappings/"' in page.content.decode()
    client.logout()
    login(client, project_manager)
    assert client.get(reverse("mappings:index")).status_code == 403


def test_upload_preview_apply_and_history_through_the_pages(client, integration_admin, references):
    login(client, integration_admin)
    content = b"cost_code;cost_type;account_id\r\n03-300;S;600\r\n06-100;;999\r\n"
    url = reverse("mappings:upload", args=[references.pk, "cost_code"])
    response = client.post(url, {"file": SimpleUploadedFile("codes.csv", content)}, follow=True)
    page = response.content.decode()
    assert "With errors" in page and "no account with this id in the ERP" in page
    assert "Apply" not in page or "Apply 1 new" not in page
    errors = client.get(
        reverse("mappings:upload_errors", args=[response.context["upload"].pk]), {"format": "csv"}
    )
    assert b"999" in errors.content and errors["Content-Type"].startswith("text/csv")
    good = b"cost_code;cost_type;account_id\r\n03-300;S;600\r\n"
    response = client.post(url, {"file": SimpleUploadedFile("codes.csv", good)}, follow=True)
    upload = response.context["upload"]
    assert "Apply 1 new and 0 changed rows" in response.content.decode()
    response = client.post(
        reverse("mappings:upload_apply", args=[upload.pk]), {"action": "apply"}, follow=True
    )
    assert "codes.csv applied: 1 created" in response.content.decode()
    row = CostCodeMapping.objects.get()
    history = client.get(
        reverse("mappings:history", args=[references.pk, "cost_code"]), {"row": row.pk}
    ).content.decode()
    assert "codes.csv" in history and "ia" in history and "“” → “600”" in history


def test_a_bad_file_gets_one_message(client, integration_admin, netsuite):
    login(client, integration_admin)
    url = reverse("mappings:upload", args=[netsuite.pk, "currency"])
    response = client.post(url, {"file": SimpleUploadedFile("x.csv", b"")}, follow=True)
    assert "x.csv: The file is empty. Nothing was changed." in response.content.decode()


def test_export_and_template_downloads(client, integration_admin, netsuite):
    login(client, integration_admin)
    CostCodeMapping.objects.create(connection=netsuite, cost_code="03-300", account_id="600")
    csv = client.get(reverse("mappings:export", args=[netsuite.pk, "cost_code"]), {"format": "csv"})
    assert "03-300" in csv.content.decode("utf-8-sig")
    xlsx = client.get(reverse("mappings:template", args=["vendor"]), {"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"


def test_table_page_search_and_controller_can_view_not_upload(client, controller, netsuite):
    CostCodeMapping.objects.create(connection=netsuite, cost_code="03-300", account_id="600")
    CostCodeMapping.objects.create(connection=netsuite, cost_code="09-900", account_id="601")
    login(client, controller)
    page = client.get(reverse("mappings:table", args=[netsuite.pk, "cost_code"]), {"q": "09"})
    text = page.content.decode()
    assert "09-900" in text and "03-300" not in text and "Upload a file" not in text
    assert client.get(reverse("mappings:index")).status_code == 403
    partial = client.get(
        reverse("mappings:table", args=[netsuite.pk, "cost_code"]), headers={"HX-Request": "true"}
    )
    assert "<html" not in partial.content.decode()


def test_coverage_lists_unmapped_items_in_use_with_document_counts(
    client, integration_admin, references, procore
):
    ReferenceRecord.objects.filter(connection=procore, remote_id="1001").update(document_count=4)
    ReferenceRecord.objects.filter(connection=procore, kind="cost_code", code="03-300").update(
        document_count=9
    )
    CostCodeMapping.objects.create(connection=references, cost_code="06-100", account_id="600")
    login(client, integration_admin)
    page = client.get(reverse("mappings:coverage", args=[references.pk]))
    gaps = page.context["gaps"]
    assert [(g.remote_id, g.documents) for g in gaps["project"]] == [("1001", 4)]
    assert [g.code for g in gaps["cost_code"]] == ["03-300"]


def test_vendor_suggestions_match_close_names_and_confirm_in_bulk(
    client, integration_admin, references, procore
):
    add_refs(procore, "vendor", ("4002", "ACME Concrete Inc."), ("4003", "Unrelated Painters"))
    add_refs(references, "vendor", ("701", "Acme Concrete", {"subsidiary_ids": ["1", "3"]}))
    login(client, integration_admin)
    url = reverse("mappings:suggestions", args=[references.pk])
    found = {s.procore_vendor_id: s for s in client.get(url).context["suggestions"]}
    assert (found["4001"].erp_vendor_id, found["4001"].reason) == ("700", "same name")
    assert found["4002"].erp_vendor_id == "701"
    assert "4003" not in found
    client.post(url, {"all": "1"})
    assert dict(VendorMapping.objects.values_list("procore_vendor_id", "erp_vendor_id")) == {
        "4001": "700",
        "4002": "701",
    }
    assert VendorMapping.objects.get(procore_vendor_id="4002").subsidiary_ids == ["1", "3"]
    assert MappingChange.objects.filter(source="suggestion").count() == 2


def test_close_names_are_suggested(references, procore):
    from mappings.selectors import vendor_suggestions

    add_refs(procore, "vendor", ("4010", "Star Framing"))
    ReferenceRecord.objects.filter(connection=procore, remote_id="4001").delete()
    add_refs(references, "vendor", ("710", "Star Framng Co"))
    found = {s.procore_vendor_id: s for s in vendor_suggestions(connection=references)}
    assert found["4010"].erp_vendor_id in {"700", "710"}


def test_admin_validates_in_plain_words_and_records_history(client, integration_admin, references):
    login(client, integration_admin)
    url = reverse("admin:mappings_costcodemapping_add")
    data = {
        "connection": references.pk,
        "cost_code": "03-300",
        "cost_type": "S",
        "subsidiary_id": "3",
        "procore_project_id": "",
        "effective_from": "",
        "item_id": "",
        "account_id": "601",
        "class_id": "",
        "notes": "",
    }
    response = client.post(url, data)
    assert "not available in subsidiary 3" in response.content.decode()
    data["subsidiary_id"] = "1"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    row = CostCodeMapping.objects.get()
    change_url = reverse("admin:mappings_costcodemapping_change", args=[row.pk])
    client.post(change_url, {**data, "account_id": "600"})
    client.post(
        reverse("admin:mappings_costcodemapping_changelist"),
        {"action": "delete_with_history", "_selected_action": [row.pk]},
    )
    assert not CostCodeMapping.objects.exists()
    actions = list(
        MappingChange.objects.filter(row_id=row.pk).order_by("id").values_list("action", "source")
    )
    assert actions == [("create", "admin"), ("update", "admin"), ("delete", "admin")]
