"""The landing page at ``/``: the address runserver prints answers with where to go next."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_root_is_a_landing_page_linking_the_docs_sign_in_and_admin(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    for href in ("/api/docs/", "/api/schema/", "/accounts/login/", "/apps/new/", "/admin/"):
        assert f'href="{href}"' in html


def test_the_landing_page_only_answers_reads(client):
    assert client.head("/").status_code == 200
    assert client.post("/").status_code == 405


def test_other_unknown_paths_are_still_the_json_404(client):
    response = client.get("/nothing-here/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
