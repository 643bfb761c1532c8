"""factory_boy factories for the rows tests need."""

import io
import secrets
from datetime import timedelta

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, set_token_value
from PIL import Image

from detection.image import ImageLimits
from detection.models import PrinterStats
from printers.models import Printer
from prints.alert_images import alert_snapshot_render
from prints.models import Alert, Print


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


class PrintFactory(factory.django.DjangoModelFactory):
    """A finished print (a printing one must go through ``print_start``, which takes the printer's lock)."""

    class Meta:
        model = Print

    printer = factory.SubFactory(PrinterFactory)
    filename = factory.Sequence(lambda n: f"part{n}.gcode")
    status = Print.Status.FINISHED
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    ended_at = factory.LazyFunction(timezone.now)


# One detection in pixels of a 640x480 frame: the box (128, 96)-(256, 192).
ALERT_DETECTIONS = [[0.9, [192.0, 144.0, 128.0, 96.0]]]


class AlertFactory(factory.django.DjangoModelFactory):
    """An alert with a real snapshot: a white 640x480 frame rendered by the service's own ``alert_snapshot_render``.

    ``snapshot_bytes`` is the file's size unless given (a test of the quota may claim more).
    """

    class Meta:
        model = Alert

    print = factory.SubFactory(PrintFactory)
    level = Alert.Level.WARNING
    created_at = factory.LazyFunction(timezone.now)
    p = 0.9
    temporal_stats = factory.LazyFunction(
        lambda: {
            "ewm_mean": 0.5,
            "rolling_mean_short": 0.2,
            "rolling_mean_long": 0.1,
            "prediction_num": 40,
            "prediction_num_lifetime": 400,
        }
    )
    detections = factory.LazyFunction(lambda: [list(d) for d in ALERT_DETECTIONS])

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        alert = model_class(*args, **kwargs)
        frame = io.BytesIO()
        Image.new("RGB", (640, 480), (255, 255, 255)).save(frame, format="JPEG")
        snapshot = alert_snapshot_render(
            frame.getvalue(), limits=ImageLimits(), max_bytes=settings.ALERT_SNAPSHOT_MAX_BYTES
        )
        alert.frame_width, alert.frame_height = snapshot.frame_width, snapshot.frame_height
        alert.snapshot.save("alert.jpg", ContentFile(snapshot.jpeg), save=False)
        if "snapshot_bytes" not in kwargs:
            alert.snapshot_bytes = len(snapshot.jpeg)
        alert.save()
        return alert
