"""The admin's OAuth application page, with our redirect-URI rule (the toolkit's allows any port)."""

from django import forms
from oauth2_provider.admin import ApplicationAdmin

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


class CheckedApplicationAdmin(ApplicationAdmin):
    """The toolkit's application admin (``OAUTH2_PROVIDER["APPLICATION_ADMIN_CLASS"]``), with that check."""

    form = CheckedApplicationForm
