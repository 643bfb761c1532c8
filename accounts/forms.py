"""Forms of the developer pages."""

from django import forms
from oauth2_provider.models import Application

from accounts.oauth import redirect_uri_problem


class ApplicationRegistrationForm(forms.Form):
    name = forms.CharField(max_length=255, help_text="Shown to printer owners on the consent page.")
    redirect_uris = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Redirect URIs",
        help_text="One a line. https, or http only to 127.0.0.1, [::1] or localhost for local development.",
    )
    client_type = forms.ChoiceField(
        choices=[
            (Application.CLIENT_PUBLIC, "Public: a mobile, desktop or browser app that cannot keep a secret (PKCE)"),
            (Application.CLIENT_CONFIDENTIAL, "Confidential: a server that keeps a client secret (and PKCE)"),
        ],
        widget=forms.RadioSelect,
        initial=Application.CLIENT_PUBLIC,
    )

    def clean_redirect_uris(self) -> list[str]:
        uris = self.cleaned_data["redirect_uris"].split()
        if not uris:
            raise forms.ValidationError("Give at least one redirect URI.")
        problems = [problem for uri in uris if (problem := redirect_uri_problem(uri))]
        if problems:
            raise forms.ValidationError(problems)
        return uris
