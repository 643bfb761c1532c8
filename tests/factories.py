"""factory_boy factories for the rows tests need."""

import secrets
from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, set_token_value

from detection.models import PrinterStats
from printers.models import Printer


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")


# The password of the ``owner`` fixture, who signs in through the pages.
OWNER_PASSWORD = "a-long-enough-test-password"


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    name = factory.Sequence(lambda n: f"App {n}")
    user = factory.SubFactory(UserFactory)
    client_type = Application.CLIENT_PUBLIC
    authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    redirect_uris = "https://app.example.com/callback"


class AccessTokenFactory(factory.django.DjangoModelFactory):
    """An access token stored as the service stores them (hashed); ``raw_token`` is the bearer value."""

    class Meta:
        model = AccessToken

    user = factory.SubFactory(UserFactory)
    application = factory.SubFactory(ApplicationFactory)
    scope = "read write"
    expires = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        raw_token = secrets.token_urlsafe(24)
        token = model_class(*args, **kwargs)
        set_token_value(token, raw_token)
        token.save()
        token.raw_token = raw_token
        return token


class PrinterFactory(factory.django.DjangoModelFactory):
    """A printer with its statistics row, as ``printers.services.printer_create`` makes it."""

    class Meta:
        model = Printer
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Printer {n}")
    stats = factory.RelatedFactory("tests.factories.PrinterStatsFactory", factory_related_name="printer")


class PrinterStatsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrinterStats
