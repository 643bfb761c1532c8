"""The start-up check that every routed API view declares its scopes (accounts.checks)."""

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import include, path
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.checks import check_api_views_declare_scopes, scope_declaration_errors
from accounts.permissions import READ, WRITE, AppTokenHasScope


class Declared(APIView):
    required_alternate_scopes = {"GET": [[READ]], "POST": [[WRITE], [READ, WRITE]]}

    def get(self, request):
        return Response()

    def post(self, request):
        return Response()


class Undeclared(APIView):
    """The default permission (a user's token with the scope), and no declaration."""

    def get(self, request):
        return Response()


class Public(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response()


# A stand-in URLconf (ROOT_URLCONF = this module): a view without its declaration, inside an include.
urlpatterns = [
    path("ok/", Declared.as_view()),
    path("public/", Public.as_view()),
    path("api/", include([path("missing/", Undeclared.as_view())])),
]


def test_every_view_the_urlconf_routes_to_declares_its_scopes():
    assert check_api_views_declare_scopes() == []


@pytest.mark.parametrize(
    ("attributes", "error_id"),
    [
        ({"permission_classes": [IsAuthenticated]}, "accounts.E001"),
        ({"required_alternate_scopes": ["read"]}, "accounts.E002"),
        ({"required_alternate_scopes": {"GET": [[READ]]}}, "accounts.E003"),  # POST undeclared
        ({"required_alternate_scopes": {"GET": [[READ]], "POST": [[WRITE]], "PUT": [[WRITE]]}}, "accounts.E004"),
        ({"required_alternate_scopes": {"GET": [], "POST": [[WRITE]]}}, "accounts.E005"),
        ({"required_alternate_scopes": {"GET": [[]], "POST": [[WRITE]]}}, "accounts.E005"),
        ({"required_alternate_scopes": {"GET": [READ], "POST": [[WRITE]]}}, "accounts.E005"),  # not nested
        ({"required_alternate_scopes": {"GET": [["admin"]], "POST": [[WRITE]]}}, "accounts.E005"),
    ],
    ids=[
        "no-scope-check",
        "a-list",
        "a-method-left-out",
        "a-method-not-served",
        "no-alternative",
        "an-empty-alternative",
        "scopes-not-in-a-list",
        "an-unknown-scope",
    ],
)
def test_a_view_whose_declaration_is_wrong_fails(attributes, error_id):
    view = type("Broken", (Declared,), attributes)

    assert [error.id for error in scope_declaration_errors(view)] == [error_id]


@pytest.mark.parametrize("permission", [None, AppTokenHasScope])
def test_a_view_without_a_declaration_fails(permission):
    view = Undeclared if permission is None else type("AppView", (Undeclared,), {"permission_classes": [permission]})

    assert [error.id for error in scope_declaration_errors(view)] == ["accounts.E002"]


def test_a_declaration_may_name_head_or_options_and_a_public_view_needs_none():
    explicit = {**Declared.required_alternate_scopes, "HEAD": [[READ]], "OPTIONS": [[READ]]}
    view = type("Explicit", (Declared,), {"required_alternate_scopes": explicit})

    assert scope_declaration_errors(Declared) == []
    assert scope_declaration_errors(view) == []
    assert scope_declaration_errors(Public) == []


def test_a_routed_view_missing_its_declaration_stops_manage_py_check(settings):
    settings.ROOT_URLCONF = __name__

    errors = [error for error in run_checks() if error.id.startswith("accounts.")]

    assert [(error.id, error.obj) for error in errors] == [("accounts.E002", Undeclared)]
    with pytest.raises(SystemCheckError, match="Undeclared declares no required_alternate_scopes"):
        call_command("check")
