"""The detection settings object: defaults, overrides from ``settings.DETECTION``, refusals."""

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from detection import conf
from detection.adaptation import AdaptationRule
from detection.conf import DetectionSettings
from detection.defaults import DEFAULTS, PROJECT_ROOT
from detection.image import ImageLimits
from detection.verdict import AdaptiveRule, ObicoRule
from tests.fresh_process import in_a_fresh_process

settings_object = conf.detection_settings  # tests/fixtures/detection.py has a fixture of the same name


def test_with_no_overrides_every_value_is_the_default(settings):
    settings.DETECTION = {}

    assert {name: getattr(settings_object, name) for name in DEFAULTS} == DEFAULTS


def test_the_defaults_are_obicos_thresholds_and_the_shipped_model():
    assert (DEFAULTS["CONF_THRESHOLD"], DEFAULTS["NMS_IOU"]) == (0.08, 0.45)
    assert DEFAULTS["MODEL_PATH"] == PROJECT_ROOT / "models" / "spaghetti-effnetlite0.onnx"
    assert DEFAULTS["MODEL_PATH"].is_file()


def test_an_override_through_the_settings_fixture_is_seen(settings):
    settings.DETECTION = {}
    assert settings_object.CONF_THRESHOLD == 0.08

    settings.DETECTION = {"CONF_THRESHOLD": 0.2, "VERDICT_THRESHOLD_LOW": 0.5}

    assert settings_object.CONF_THRESHOLD == 0.2
    assert settings_object.VERDICT_THRESHOLD_LOW == 0.5
    assert settings_object.NMS_IOU == 0.45


def test_an_override_through_override_settings_is_seen_and_then_gone():
    with override_settings(DETECTION={"THREADS": 7}):
        assert settings_object.THREADS == 7

    assert settings_object.THREADS == 1  # tests/fixtures/detection.py's


def test_a_key_changed_in_place_is_seen(settings):
    settings.DETECTION = {"THREADS": 3}
    assert settings_object.THREADS == 3

    settings.DETECTION["THREADS"] = 4

    assert settings_object.THREADS == 4


def test_an_unknown_key_is_refused(settings):
    settings.DETECTION = {"CONF_THRESHOLD": 0.2, "CONF_TRESHOLD": 0.3}

    with pytest.raises(ImproperlyConfigured, match=r"Unknown key\(s\) in settings\.DETECTION: CONF_TRESHOLD\."):
        _ = settings_object.CONF_THRESHOLD


def test_settings_that_are_not_a_dict_are_refused(settings):
    settings.DETECTION = [("THREADS", 1)]

    with pytest.raises(ImproperlyConfigured, match=r"settings\.DETECTION must be a dict, not list\."):
        _ = settings_object.THREADS


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="Invalid detection setting: 'CONF'"):
        _ = settings_object.CONF


def test_given_overrides_replace_django_settings():
    assert DetectionSettings({"THREADS": 4}).THREADS == 4
    with pytest.raises(ImproperlyConfigured, match="NOPE"):
        _ = DetectionSettings({"NOPE": 1}).THREADS


def test_rules_with_the_defaults_are_the_dataclass_defaults(settings):
    settings.DETECTION = {}

    assert settings_object.obico_rule() == ObicoRule()
    assert settings_object.adaptive_rule() == AdaptiveRule()
    assert settings_object.adaptation_rule() == AdaptationRule()


def test_rules_reflect_overrides(settings):
    settings.DETECTION = {
        "VERDICT_THRESHOLD_HIGH": 0.9,
        "VERDICT_FAILURE_ESCALATION": 2.0,
        "ADAPTIVE_WARNING": 0.2,
        "ADAPTATION_RATE_FLOOR": 0.1,
    }

    assert settings_object.obico_rule() == ObicoRule(threshold_high=0.9, failure_escalation=2.0)
    assert settings_object.adaptive_rule() == AdaptiveRule(warning=0.2)
    assert settings_object.adaptation_rule() == AdaptationRule(rate_floor=0.1)


def test_an_unknown_verdict_rule_stops_the_start():
    with pytest.raises(ImproperlyConfigured, match="VERDICT_RULE"):
        _ = DetectionSettings({"VERDICT_RULE": "strict"}).THREADS


@pytest.mark.parametrize(("value", "expected"), [(None, "adaptive"), ("obico", "obico")])
@pytest.mark.slow
def test_the_verdict_rule_comes_from_the_environment(value, expected):
    environment = {"SECRET_KEY": "x" * 50} | ({"DETECTION_VERDICT_RULE": value} if value else {})
    done = in_a_fresh_process(
        "from detection.conf import detection_settings; print(detection_settings.rules().name)", **environment
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == expected


def test_image_limits_with_the_defaults_are_the_dataclass_default(settings):
    settings.DETECTION = {}

    assert settings_object.image_limits() == ImageLimits()


def test_image_limits_reflect_overrides(settings):
    settings.DETECTION = {"MAX_PIXELS": 100 * 100, "MAX_IMAGE_BYTES": 1000, "MAX_ASPECT_RATIO": 2.0}

    assert settings_object.image_limits() == ImageLimits(
        max_pixels=100 * 100, max_image_bytes=1000, max_aspect_ratio=2.0
    )


def test_the_pure_modules_import_without_django():
    # The training code imports the defaults, the image decoder and the verdict rule with no Django set up.
    code = (
        "import sys; import detection.conf, detection.image, detection.verdict, detection.adaptation, "
        "detection.judge, detection.runner; "
        "sys.exit(any(name.startswith('django') for name in sys.modules))"
    )
    completed = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", code], check=False, env={}, cwd=PROJECT_ROOT
    )

    assert completed.returncode == 0
