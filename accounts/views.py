"""The printer owner's pages: the landing page, connected apps, and app registration for developers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import selectors, services
from accounts.forms import ApplicationRegistrationForm


@require_safe
def home(request):
    """Where runserver's address leads: the API docs, the owner's and developer's pages, the admin."""
    return render(request, "accounts/home.html")


@login_required
def connected_apps(request):
    """The apps that can act on the owner's printers, with what they may do and since when."""
    return render(request, "accounts/connected_apps.html", {"apps": selectors.connected_app_list(user=request.user)})


@login_required
@require_POST
def connected_app_revoke(request, application_id: int):
    """Revoke an app's access at once (its tokens stop working on their next request)."""
    if services.connected_app_revoke(user=request.user, application_id=application_id):
        messages.success(request, "Access revoked. The app can no longer see or control your printers.")
    else:
        messages.info(request, "That app had no access to revoke.")
    return redirect("connected-apps")


@login_required
def registered_apps(request):
    """The developer's own applications."""
    return render(request, "accounts/registered_apps.html", {"apps": selectors.registered_app_list(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def register_app(request):
    """Register an OAuth application; the client secret is shown once, on the answer page."""
    form = ApplicationRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        application, secret = services.oauth_application_register(user=request.user, **form.cleaned_data)
        return render(request, "accounts/app_registered.html", {"application": application, "secret": secret})
    return render(request, "accounts/register_app.html", {"form": form}, status=400 if form.errors else 200)
