"""The claim page and Home's small things (issue 10): a form posted from a tab comes back to
that tab, and Home's contract caption sits above its table on Bootstrap 4."""

import pytest

from tests.conftest import csrf_token_from
from tests.test_emails_web import ADMIN, DEMO_PASSWORD


@pytest.fixture
def draft_claim(demo) -> int:
    return demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]


@pytest.mark.parametrize(
    ("posted_tab", "back_to"),
    [("emails", "&tab=emails"), ("detail", "&tab=detail"), (None, ""), ("evil", "")],
)
def test_a_form_posted_from_a_tab_comes_back_to_it(login, draft_claim, posted_tab, back_to):
    client = login(ADMIN, DEMO_PASSWORD)
    page = client.get(f"/admin/claims/details/?id={draft_claim}&tab=emails")
    assert "js/claim-tabs.js" in page.get_data(as_text=True)
    form = {"csrf_token": csrf_token_from(page.get_data(as_text=True)), "seen": "draft"}
    if posted_tab:
        form["tab"] = posted_tab
    for path, values in [
        ("status", {"status": "under_review"}),
        ("reminders", {"reminders": "off"}),
    ]:
        response = client.post(f"/admin/claims/{draft_claim}/{path}", data={**form, **values})
        assert response.status_code == 302
        assert response.location == f"/admin/claims/details/?id={draft_claim}{back_to}"


def test_homes_contract_caption_is_above_its_table_on_bootstrap_4(login, demo):
    page = login(ADMIN, DEMO_PASSWORD).get("/admin/").get_data(as_text=True)
    assert "caption-top" not in page  # a Bootstrap 5 class, which Bootstrap 4 ignores
    assert '<caption style="caption-side: top">HC-1' in page
