"""The webhook settings object: defaults, overrides from ``settings.WEBHOOKS`` and the environment."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.fresh_process import in_a_fresh_process
from webhooks.conf import DEFAULTS, webhook_settings


def test_with_no_overrides_every_value_is_the_default_and_the_lease_a_minute(settings):
    settings.WEBHOOKS = {}

    assert {name: getattr(webhook_settings, name) for name in DEFAULTS} == {**DEFAULTS, "LEASE_SECONDS": 60}


def test_the_defaults_are_those_the_settings_module_had():
    timing = ("TIMEOUT_SECONDS", "RESOLVE_TIMEOUT_SECONDS", "RETRY_BASE_SECONDS", "RETRY_CAP_SECONDS", "MAX_ATTEMPTS")
    bounds = ("MAX_RESPONSE_BYTES", "WORKER_THREADS", "ALLOW_PRIVATE_NETWORKS")

    assert [DEFAULTS[name] for name in timing] == [10, 3, 10, 3600, 12]
    assert [DEFAULTS[name] for name in bounds] == [4096, 8, False]


@pytest.mark.parametrize(("overrides", "lease"), [({"TIMEOUT_SECONDS": 45}, 90), ({"LEASE_SECONDS": 30}, 30)])
def test_the_lease_outlives_the_deadline_unless_set(settings, overrides, lease):
    settings.WEBHOOKS = overrides

    assert lease == webhook_settings.LEASE_SECONDS


def test_an_unknown_key_is_refused(settings):
    settings.WEBHOOKS = {"TIMEOUT_SECOND": 5}

    with pytest.raises(ImproperlyConfigured, match=r"Unknown key\(s\) in settings\.WEBHOOKS: TIMEOUT_SECOND\."):
        _ = webhook_settings.TIMEOUT_SECONDS


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"DEBUG": "1"}, {"ALLOW_PRIVATE_NETWORKS": True}),
        ({"DEBUG": "0"}, {"ALLOW_PRIVATE_NETWORKS": False}),
        (
            {
                "DEBUG": "0",
                "WEBHOOK_TIMEOUT_SECONDS": "45",
                "WEBHOOK_MAX_RESPONSE_BYTES": "100",
                "WEBHOOK_WORKER_THREADS": "2",
                "WEBHOOK_MAX_ATTEMPTS": "3",
                "WEBHOOK_RESOLVE_TIMEOUT_SECONDS": "1.5",
                "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",
            },
            {
                "TIMEOUT_SECONDS": 45.0,
                "MAX_RESPONSE_BYTES": 100,
                "WORKER_THREADS": 2,
                "MAX_ATTEMPTS": 3,
                "RESOLVE_TIMEOUT_SECONDS": 1.5,
                "ALLOW_PRIVATE_NETWORKS": True,
            },
        ),
    ],
)
@pytest.mark.slow
def test_the_environment_sets_what_it_names(environment, expected):
    done = in_a_fresh_process(
        "from django.conf import settings; import json; print(json.dumps(settings.WEBHOOKS))",
        SECRET_KEY="x" * 50,
        **environment,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == expected
