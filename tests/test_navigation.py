"""Navigation by role: each user sees only the menus and buttons they may use (the views' own
is_accessible and may_change decide both), and the Forbidden and Not found pages are the
app's own, with a way back (issue 10)."""

import re

import pytest
import sqlalchemy as sa

from models import BillingPermission, Contact, Project, ProjectMember
from tests.test_backoffice import users  # noqa: F401 (a fixture: one user per role)
from web.extensions import db

MENU = {
    "Outbox": "/admin/outbox/",
    "Inbound": "/admin/inbound/",
    "Mailbox": "/admin/mailbox/",
    "Projects": "/admin/projects/",
    "Members": "/admin/members/",
    "Company": "/admin/company/",
    "Claims": "/admin/claims/",
    "Contracts": "/admin/contracts/",
    "Directory": "/admin/directory/",
}
EVERYONE = {"Claims", "Contracts", "Directory"}

# What each role finds in the menu: Operators and Settings only where they may act.
MENUS_BY_ROLE = {
    "read_only": EVERYONE,
    "standard": EVERYONE,
    "project_admin": EVERYONE | {"Outbox", "Projects", "Members"},
    "admin": set(MENU),
}


def menu_of(page: str) -> set[str]:
    """The back office's menu entries on a page (the navbar, before the page's body)."""
    navbar = page[: page.index("</nav>")]
    return {name for name, url in MENU.items() if f'href="{url}"' in navbar}


@pytest.mark.parametrize("role", sorted(MENUS_BY_ROLE))
def test_each_role_sees_only_the_menus_it_may_use(login, users, role):  # noqa: F811
    page = login(users[role].email).get("/admin/").get_data(as_text=True)
    assert menu_of(page) == MENUS_BY_ROLE[role]
    assert ("Operators" in page[: page.index("</nav>")]) is bool(
        MENUS_BY_ROLE[role] & {"Outbox", "Inbound", "Mailbox"}
    )
    assert ("Settings" in page[: page.index("</nav>")]) is bool(
        MENUS_BY_ROLE[role] & {"Projects", "Members", "Company"}
    )


@pytest.mark.parametrize("role", sorted(MENUS_BY_ROLE))
def test_what_the_menu_hides_the_page_refuses(login, users, role):  # noqa: F811
    client = login(users[role].email)
    for name, url in MENU.items():
        status = client.get(url).status_code
        assert (status == 200) is (name in MENUS_BY_ROLE[role]), (name, status)


def _row_buttons(page: str) -> tuple[bool, bool, bool]:
    """Whether the list offers Create, an Edit row button and a Delete row button."""
    return (
        re.search(r'href="[^"]*/new/', page) is not None,
        re.search(r'href="[^"]*/edit/\?id=', page) is not None,
        'action="/admin/directory/delete/"' in page or "/delete/" in page,
    )


@pytest.mark.parametrize(
    ("role", "changes"),
    [("read_only", False), ("standard", False), ("project_admin", True), ("admin", True)],
)
def test_the_directory_offers_create_and_edit_only_to_those_who_may_save(
    login,
    users,  # noqa: F811
    role,
    changes,
):
    client = login(users[role].email)
    page = client.get("/admin/directory/").get_data(as_text=True)
    assert "olivia@owner.example" in page
    assert _row_buttons(page) == (changes, changes, changes)
    olivia = db.session.scalar(sa.select(Contact).where(Contact.email == "olivia@owner.example"))
    # The row still opens to read, for everyone who sees it.
    details = client.get(f"/admin/directory/details/?id={olivia.id}")
    assert details.status_code == 200 and "olivia@owner.example" in details.get_data(as_text=True)
    edit = client.get(f"/admin/directory/edit/?id={olivia.id}")
    assert edit.status_code == (200 if changes else 302)


def test_a_billing_admin_sees_projects_without_create_or_edit(login, users):  # noqa: F811
    """Only company admins create and rename projects: a billing admin reads the list."""
    page = login(users["project_admin"].email).get("/admin/projects/").get_data(as_text=True)
    assert "P-1001" in page and _row_buttons(page) == (False, False, False)
    page = login(users["admin"].email).get("/admin/projects/").get_data(as_text=True)
    assert _row_buttons(page)[:2] == (True, True)


def test_edit_and_delete_only_on_the_rows_of_projects_one_administers(
    login,
    users,  # noqa: F811
    make_user,
    project_id,
):
    """An admin of another project of the company sees this project's directory rows
    without Edit, and their edit page is the Forbidden page."""
    other = Project(company_id=users["admin"].company_id, number="P-2002", name="Second site")
    db.session.add(other)
    db.session.commit()
    elsewhere = make_user("elsewhere@harbourside.example", other.id, BillingPermission.ADMIN)
    db.session.add(
        ProjectMember(
            project_id=project_id, user_id=elsewhere.id, permission=BillingPermission.READ_ONLY
        )
    )
    db.session.commit()
    client = login(elsewhere.email)
    page = client.get("/admin/directory/").get_data(as_text=True)
    olivia = db.session.scalar(sa.select(Contact).where(Contact.email == "olivia@owner.example"))
    assert f"/admin/directory/edit/?id={olivia.id}" not in page
    assert f"/admin/directory/details/?id={olivia.id}" in page
    refused = client.get(f"/admin/directory/edit/?id={olivia.id}")
    assert refused.status_code == 403
    assert 'id="error-page"' in refused.get_data(as_text=True)


def test_forbidden_is_the_apps_own_page_with_a_way_back(login, users):  # noqa: F811
    client = login(users["read_only"].email)
    response = client.get("/admin/outbox/", headers={"Referer": "http://localhost/admin/claims/"})
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "This page is not for you" in page and "ask a company admin" in page
    assert 'href="/admin/claims/"' in page  # back where they came from
    assert 'href="/admin/"' in page  # and Home, in the back office's own layout
    assert menu_of(page) == EVERYONE
    assert "Forbidden" not in page and "Werkzeug" not in page


def test_a_way_back_never_leads_to_another_site(login, users):  # noqa: F811
    client = login(users["read_only"].email)
    page = client.get("/admin/outbox/", headers={"Referer": "https://evil.example/x"})
    assert "evil.example" not in page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/claims/details/?id=999999", "/admin/nowhere", "/nope"])
def test_not_found_is_the_apps_own_page_signed_in(login, users, path):  # noqa: F811
    response = login(users["standard"].email).get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Nothing here" in page and 'href="/admin/"' in page
    assert menu_of(page) == EVERYONE


def test_not_found_without_a_login_offers_the_login(app):
    response = app.test_client().get("/nope")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Nothing here" in page and 'href="/login"' in page


def test_the_api_and_the_client_page_keep_their_own_errors(app, login, users):  # noqa: F811
    client = login(users["standard"].email)
    api = client.get("/api/v1/nowhere")
    assert api.status_code == 404 and api.is_json and "error" in api.get_json()
    wrong_method = client.delete("/api/v1/claims")
    assert wrong_method.status_code == 405 and wrong_method.is_json
    link = app.test_client().get("/client/not-a-token")
    assert link.status_code == 404 and "This link is not valid" in link.get_data(as_text=True)
    assert "Nothing here" not in link.get_data(as_text=True)


def test_a_wrong_method_on_a_plain_blueprint_is_the_apps_own_page(login, users):  # noqa: F811
    response = login(users["standard"].email).get("/logout")  # a form's POST, opened as a link
    page = response.get_data(as_text=True)
    assert response.status_code == 405 and "That did not work" in page
    assert response.headers["Allow"] and 'href="/admin/"' in page
