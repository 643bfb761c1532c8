"""The admin's OAuth application page, with our redirect-URI rule (the toolkit's allows any port) and a
minimum length for a client secret typed by hand."""

from django import forms
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from oauth2_provider.admin import ApplicationAdmin
from oauth2_provider.models import Application

from accounts.oauth import redirect_uri_problem


class CheckedApplicationForm(forms.ModelForm):
    """The base form the admin builds the application form on (its fields come from the admin)."""

    def clean_redirect_uris(self) -> str:
        """The developer page's rule (``accounts.oauth.redirect_uri_problem``) for every URI."""
        uris = self.cleaned_data["redirect_uris"]
        problems = [problem for uri in uris.split() if (problem := redirect_uri_problem(uri))]
        if problems:
            raise forms.ValidationError(problems)
        return uris

    def clean(self):
        """A confidential app's secret, when typed rather than generated, is long enough to be unguessable.

        Secrets are stored with a fast hash and guesses are not counted per client
        (``accounts.hashers``): the secret's length is what stops guessing. A generated one is 128
        characters; a hash already stored (the form shows it when an app is edited) is left alone.
        """
        cleaned = super().clean()
        secret = cleaned.get("client_secret") or ""
        if cleaned.get("client_type") == Application.CLIENT_CONFIDENTIAL and not _is_hashed(secret):
            minimum = settings.CLIENT_SECRET_MIN_LENGTH
            if len(secret) < minimum:
                self.add_error("client_secret", f"A client secret must be at least {minimum} characters.")
        return cleaned


def _is_hashed(secret: str) -> bool:
    try:
        identify_hasher(secret)
    except ValueError:
        return False
    return True


class CheckedApplicationAdmin(ApplicationAdmin):
    """The toolkit's application admin (``OAUTH2_PROVIDER["APPLICATION_ADMIN_CLASS"]``), with that check."""

    form = CheckedApplicationForm
