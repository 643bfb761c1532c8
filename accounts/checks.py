"""A start-up check that every API view the URLconf routes to declares the scopes of what it serves.

``manage.py check`` and ``migrate`` (the deployment's first step) run it, so a view added without
its declaration stops the release instead of answering every token with a 500 or a 403.
"""

from collections.abc import Iterable, Iterator

from django.core.checks import Error, register
from django.urls import URLPattern, URLResolver, get_resolver
from oauth2_provider.contrib.rest_framework import TokenMatchesOASRequirements
from oauth2_provider.scopes import get_scopes_backend
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from accounts.permissions import view_serves

# Django answers HEAD with the GET handler and DRF answers OPTIONS itself: neither is declared.
UNDECLARED_METHODS = frozenset({"HEAD", "OPTIONS"})


def routed_api_views(patterns: Iterable[URLPattern | URLResolver]) -> Iterator[type[APIView]]:
    """Every DRF view class ``patterns`` route to, included URLconfs and all."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from routed_api_views(pattern.url_patterns)
        else:
            view = getattr(pattern.callback, "cls", None)
            if isinstance(view, type) and issubclass(view, APIView):
                yield view


def scope_declaration_errors(view: type[APIView]) -> list[Error]:
    """What is wrong with ``view``'s ``required_alternate_scopes``; empty when it is complete.

    A view open to anyone says so with ``AllowAny`` alone (the schema and its docs); any other view
    must check scopes, and declare for each method it serves a non-empty list of non-empty lists of
    known scopes, and no method it does not serve.
    """
    name = f"{view.__module__}.{view.__qualname__}"
    if list(view.permission_classes) == [AllowAny]:
        return []
    if not any(issubclass(permission, TokenMatchesOASRequirements) for permission in view.permission_classes):
        return [Error(f"{name} checks no scopes.", hint="Use accounts.permissions.", obj=view, id="accounts.E001")]
    declared = getattr(view, "required_alternate_scopes", None)
    if not isinstance(declared, dict):
        return [
            Error(
                f"{name} declares no required_alternate_scopes.",
                hint='Declare each method it serves, e.g. {"GET": [["read"]]}.',
                obj=view,
                id="accounts.E002",
            )
        ]
    served = {method.upper() for method in view.http_method_names if view_serves(view, method)}
    if "GET" in served:
        served.add("HEAD")  # Django answers it with the GET handler
    errors = [
        Error(f"{name} serves {method} but declares no scopes for it.", obj=view, id="accounts.E003")
        for method in sorted(served - UNDECLARED_METHODS - set(declared))
    ]
    errors += [
        Error(f"{name} declares scopes for {method}, which it does not serve.", obj=view, id="accounts.E004")
        for method in sorted(set(declared) - served)
    ]
    known = set(get_scopes_backend().get_all_scopes())
    for method, alternatives in declared.items():
        if not alternatives or not all(scopes and set(scopes) <= known for scopes in alternatives):
            errors.append(
                Error(
                    f"{name} declares {alternatives!r} for {method}.",
                    hint=f"A list of lists of scopes from OAUTH2_PROVIDER['SCOPES']: {sorted(known)}.",
                    obj=view,
                    id="accounts.E005",
                )
            )
    return errors


@register("security", "urls")
def check_api_views_declare_scopes(app_configs=None, **kwargs) -> list[Error]:
    """Django's system check over the URLconf's API views (``scope_declaration_errors``)."""
    views = dict.fromkeys(routed_api_views(get_resolver().url_patterns))
    return [error for view in views for error in scope_declaration_errors(view)]
