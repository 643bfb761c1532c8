"""Hostile request bodies, headers and query strings: always a 4xx JSON error, never a 5xx.

Each case here was a 500 once: Django's field and file caps raise ``SuspiciousOperation`` subclasses
that DRF does not know, deep JSON overflowed the stack, and ``str.isdigit()`` accepts digits
``int()`` refuses. Most are reachable without a token, because authentication reads the body.
"""

import io
import json

import pytest
from django.test.client import ClientHandler, RequestFactory
from rest_framework.test import APIClient

from detection.models import PrinterStats
from printers.models import Printer
from prints.models import Print
from tests.factories import AccessTokenFactory
from tests.fixtures.accounts import app_client
from tests.fixtures.images import snapshot

pytestmark = pytest.mark.django_db

BOUNDARY = "hostileboundary"


def multipart(*, fields: int = 0, files: int = 0, image: bytes | None = None) -> bytes:
    """A multipart body with ``fields`` text fields and ``files`` tiny file parts, built by hand."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n' for i in range(fields)]
    parts += [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="img"; filename="s{i}.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\nx\r\n"
        for i in range(files)
    ]
    return "".join(parts).encode() + f"--{BOUNDARY}--\r\n".encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED = "application/x-www-form-urlencoded"
TOO_MANY_FIELDS = {
    "error": "The request has more than 1000 fields.",
    "code": "too_many_fields",
}
TOO_MANY_FILES = {
    "error": "The request has more than 100 files.",
    "code": "too_many_files",
}
# Bodies over Django's caps on fields and files, each with the error it must get.
OVER_THE_CAPS = pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (multipart(fields=1001), MULTIPART, TOO_MANY_FIELDS),
        (multipart(files=101), MULTIPART, TOO_MANY_FILES),
        ("&".join(f"f{i}=x" for i in range(1001)).encode(), URLENCODED, TOO_MANY_FIELDS),
    ],
    ids=["multipart-1001-fields", "multipart-101-files", "urlencoded-1001-fields"],
)


@pytest.fixture(params=["token", "no-token"])
def token(request):
    return request.param


@pytest.fixture
def client_for(request, token, api):
    """The client for ``path``: with the token it takes (a user's, or an app's for the webhook), or none."""

    def client(path: str) -> APIClient:
        if token == "no-token":
            return APIClient()
        # Made only when needed: an app's secret is hashed on save, which is slow on purpose.
        return app_client() if path.startswith("/api/v1/webhook/") else api

    return client


# --- 1. Django's field and file caps --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [(multipart(fields=1001), TOO_MANY_FIELDS), (multipart(files=101), TOO_MANY_FILES)],
    ids=["1001-fields", "101-files"],
)
def test_a_predict_with_too_many_parts_is_400_and_counts_nothing(client_for, token, printing, body, expected):
    path = f"/api/v1/printers/{printing.id}/predict/"

    response = client_for(path).generic("POST", path, body, content_type=MULTIPART)

    if token == "token":
        assert response.status_code == 400
        assert response.json() == expected
    else:  # without a token the body is never read
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
    assert PrinterStats.objects.get(printer=printing).prediction_num == 0


@OVER_THE_CAPS
@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/api/v1/printers/{id}/start_print/"), ("PUT", "/api/v1/webhook/")]
)
def test_a_json_endpoint_never_parses_a_form_however_many_parts(
    client_for, token, printer, method, path, body, content_type, expected
):
    path = path.format(id=printer.id)

    response = client_for(path).generic(method, path, body, content_type=content_type)

    # With a token the view reads the body, which no JSON parser takes; without one it is never read.
    assert response.status_code == (415 if token == "token" else 401)
    assert response.json()["code"] == ("unsupported_media_type" if token == "token" else "not_authenticated")
    assert Printer.objects.count() == 1
    assert not Print.objects.exists()


def test_a_form_within_the_caps_is_still_refused_as_the_wrong_media_type(api):
    response = api.generic("POST", "/api/v1/printers/", multipart(fields=1000), content_type=MULTIPART)

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@OVER_THE_CAPS
@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/o/token/", "/o/revoke_token/", "/o/introspect/", "/o/authorize/", "/admin/login/"]
)
def test_pages_outside_the_api_given_too_many_parts_are_a_json_400(user, path, body, content_type, expected):
    client = APIClient()
    client.force_login(user)  # /o/authorize/ sends strangers to sign in before it reads a body

    response = client.generic("POST", path, body, content_type=content_type)

    assert response.status_code == 400
    assert response.json() == expected


def test_a_query_string_with_too_many_fields_is_400(client_for):
    query = "&".join(f"f{i}=1" for i in range(1001))

    response = client_for("/api/v1/printers/").get(f"/api/v1/printers/?{query}")

    assert response.status_code == 400
    assert response.json() == TOO_MANY_FIELDS


def test_a_query_string_with_bad_percent_encoding_is_400(api):
    # oauthlib refuses it while reading the token; that is the client's doing, not ours.
    response = api.get("/api/v1/printers/?a=%zz")

    assert response.status_code == 400
    assert response.json() == {"error": "Bad request.", "code": "bad_request"}


# --- 2. JSON depth ----------------------------------------------------------------------------------


def nested(depth: int, opener: str = "[", closer: str = "]", inner: str = "1") -> bytes:
    return (opener * depth + inner + closer * depth).encode()


DEEP = {"error": "The JSON body is nested deeper than 64 levels.", "code": "parse_error"}
JSON_WRITES = [
    ("POST", "/api/v1/printers/"),
    ("PATCH", "/api/v1/printers/{id}/"),
    ("POST", "/api/v1/printers/{id}/start_print/"),
    ("POST", "/api/v1/printers/{id}/finish_print/"),
    ("PUT", "/api/v1/webhook/"),
]


@pytest.mark.parametrize(("method", "path"), JSON_WRITES)
@pytest.mark.parametrize(
    "body",
    [nested(3000), nested(30_000), b'{"name": ' + nested(3000) + b"}", nested(3000, '{"a":', "}"), nested(65)],
    ids=["3000-lists", "30000-lists", "deep-inside-an-object", "3000-objects", "65-lists"],
)
@pytest.mark.parametrize("token", ["token"])
def test_deeply_nested_json_is_400_with_a_token(client_for, printer, method, path, body):
    client = client_for(path)

    response = client.generic(method, path.format(id=printer.id), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == DEEP
    assert not Print.objects.exists()
    assert Printer.objects.get().name == printer.name


@pytest.mark.parametrize(("method", "path"), JSON_WRITES)
def test_deeply_nested_json_is_401_without_a_token(printer, method, path):
    response = APIClient().generic(method, path.format(id=printer.id), nested(3000), content_type="application/json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "path"), JSON_WRITES)
@pytest.mark.parametrize("token", ["token"])
def test_a_json_body_over_its_byte_limit_is_413(client_for, printer, method, path):
    client = client_for(path)
    body = b'{"name": "' + b"x" * (64 * 1024) + b'"}'

    response = client.generic(method, path.format(id=printer.id), body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {"error": "The JSON body is larger than the limit of 65536 bytes.", "code": "too_large"}
    assert Printer.objects.get().name == printer.name
    assert not Print.objects.exists()


@pytest.mark.parametrize("depth", [1, 63])
def test_json_nested_within_the_limit_is_parsed(api, depth):
    body = b'{"name": "ok", "extra": ' + nested(depth) + b"}"

    response = api.generic("POST", "/api/v1/printers/", body, content_type="application/json")

    assert response.status_code == 201
    assert response.json()["name"] == "ok"


def test_brackets_inside_strings_do_not_count_as_depth(api):
    body = b'{"name": "ok", "extra": "' + b"[{" * 5000 + b'\\"]]"}'

    response = api.generic("POST", "/api/v1/printers/", body, content_type="application/json")

    assert response.status_code == 201


@pytest.mark.parametrize("path", ["/o/token/", "/o/revoke_token/", "/o/introspect/"])
@pytest.mark.parametrize("content_type", ["application/json", URLENCODED])
def test_the_oauth_endpoints_given_deep_json_are_4xx(path, content_type):
    response = APIClient().generic("POST", path, nested(3000), content_type=content_type)

    assert 400 <= response.status_code < 500


# --- 3. Pagination ----------------------------------------------------------------------------------


@pytest.fixture
def predictions_path(api, printing):
    print_id = api.get("/api/v1/prints/").json()["results"][0]["id"]
    return f"/api/v1/prints/{print_id}/predictions/"


@pytest.mark.parametrize("collection", ["prints", "predictions"])
@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("page=²", "page: Must be a whole number from 1 to 999999999."),
        ("page=\u0661", "page: Must be a whole number from 1 to 999999999."),  # an Arabic-Indic one
        ("page=99999999999999999999", "page: Must be a whole number from 1 to 999999999."),
        ("page=" + "9" * 5000, "page: Must be a whole number from 1 to 999999999."),  # over int()'s 4300 digits
        ("page=0", "page: Must be a whole number from 1 to 999999999."),
        ("page=-1", "page: Must be a whole number from 1 to 999999999."),
        ("page=+1", "page: Must be a whole number from 1 to 999999999."),
        ("page=%201", "page: Must be a whole number from 1 to 999999999."),
        ("page_size=²", "page_size: Must be a whole number from 1 to 200."),
        ("page_size=99999999999999999999", "page_size: Must be a whole number from 1 to 200."),
        ("page_size=" + "9" * 5000, "page_size: Must be a whole number from 1 to 200."),
        ("page_size=0", "page_size: Must be a whole number from 1 to 200."),
    ],
)
def test_page_numbers_that_are_not_ascii_whole_numbers_in_range_are_400(
    api, predictions_path, collection, query, error
):
    path = "/api/v1/prints/" if collection == "prints" else predictions_path

    response = api.get(f"{path}?{query}")

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("collection", ["prints", "predictions"])
def test_a_page_past_the_end_is_still_404(api, predictions_path, collection):
    path = "/api/v1/prints/" if collection == "prints" else predictions_path

    response = api.get(f"{path}?page=999999999&page_size=007")

    assert response.status_code == 404


# --- 5. Headers and bodies that do not add up -------------------------------------------------------


def raw_request(method: str, path: str, body: bytes, *, content_length: str | None = None, **environ):
    """Call the application with a hand-made WSGI environ, whose Content-Length the test client would correct."""
    env = RequestFactory()._base_environ(PATH_INFO=path, REQUEST_METHOD=method, **environ)
    env["CONTENT_LENGTH"] = str(len(body)) if content_length is None else content_length
    env["wsgi.input"] = io.BytesIO(body)
    response = ClientHandler(enforce_csrf_checks=False)(env)
    response.json = lambda: json.loads(response.content)
    return response


@pytest.fixture
def bearer(user):
    return f"Bearer {AccessTokenFactory(user=user).raw_token}"


@pytest.fixture(params=["token", "no-token"])
def auth(request):
    return {"HTTP_AUTHORIZATION": request.getfixturevalue("bearer")} if request.param == "token" else {}


@pytest.mark.parametrize(
    "charset",
    ["nope", "", "utf-7", "rot13", "base64_codec", "bz2_codec", "zlib_codec", "utf-16", "latin-1", "x" * 200],
)
def test_a_json_body_is_utf_8_whatever_charset_it_names(api, charset):
    # RFC 8259 §11: application/json has no charset parameter; "adding one really has no effect".
    response = api.generic(
        "POST", "/api/v1/printers/", '{"name": "Prusa é"}'.encode(), content_type=f"application/json; charset={charset}"
    )

    assert response.status_code == 201
    assert response.json()["name"] == "Prusa é"


def test_a_json_body_in_utf_16_is_400_even_if_it_says_so(api):
    response = api.generic(
        "POST", "/api/v1/printers/", '{"name": "x"}'.encode("utf-16"), content_type="application/json; charset=utf-16"
    )

    assert response.status_code == 400
    assert response.json() == {"error": "The JSON body is not valid UTF-8.", "code": "parse_error"}
    assert not Printer.objects.exists()


@pytest.mark.parametrize("charset", ["nope", "utf-7", "rot13", "base64_codec", "bz2_codec", "utf-16", "x" * 200])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/accounts/login/", b"username=a&password=b"),
        ("/o/token/", b"grant_type=authorization_code&code=x"),
        ("/o/revoke_token/", b"token=x"),
    ],
)
def test_a_form_in_an_odd_charset_is_never_a_5xx(path, body, charset):
    response = APIClient().generic("POST", path, body, content_type=f"{URLENCODED}; charset={charset}")

    assert response.status_code < 500


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", multipart(files=1)),
        ("multipart/form-data; boundary=", multipart(files=1)),
        ("multipart/form-data; boundary=" + "b" * 100, multipart(files=1)),
        ("multipart/form-data; boundary=\x00", multipart(files=1)),
        ("multipart/form-data; boundary=é", multipart(files=1)),
        (MULTIPART, b"--" + BOUNDARY.encode()),
        (MULTIPART, b"no boundary here at all"),
        (MULTIPART, multipart(files=1)[:-20]),
        (MULTIPART + "; charset=nope", multipart(files=1)),
        (MULTIPART + "; charset=bz2_codec", multipart(fields=1, files=1)),
        (MULTIPART + "; charset=utf-16", multipart(fields=1, files=1)),
        (
            MULTIPART,
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="img"; filename="a.jpg"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n!!!\r\n--{BOUNDARY}--\r\n".encode(),
        ),
        (
            MULTIPART,
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name*=utf-8''%FF%FE\r\n\r\n"
            f"x\r\n--{BOUNDARY}--\r\n".encode(),
        ),
    ],
    ids=[
        "no-boundary",
        "empty-boundary",
        "long-boundary",
        "nul-boundary",
        "non-ascii-boundary",
        "unterminated",
        "no-parts",
        "truncated",
        "bad-charset",
        "bz2-charset",
        "utf-16-charset",
        "bad-base64",
        "bad-rfc2231-name",
    ],
)
def test_a_malformed_multipart_predict_is_4xx(printing, auth, content_type, body):
    response = raw_request("POST", f"/api/v1/printers/{printing.id}/predict/", body, CONTENT_TYPE=content_type, **auth)

    assert 400 <= response.status_code < 500, response.content
    assert response.json()["error"]
    assert PrinterStats.objects.get(printer=printing).prediction_num == 0


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/api/v1/printers/", "application/json", b'{"name": "x"}'),
        ("/api/v1/printers/{id}/predict/", MULTIPART, multipart(files=1)),
        ("/accounts/login/", URLENCODED, b"username=a&password=b"),
        ("/o/token/", URLENCODED, b"grant_type=authorization_code&code=x"),
    ],
)
@pytest.mark.parametrize("declared", ["-1", "-99999999999999999999", "1e3", " 12", "0x10", "99999999999999999999"])
def test_a_nonsense_content_length_is_4xx(printing, auth, path, content_type, body, declared):
    response = raw_request(
        "POST", path.format(id=printing.id), body, content_length=declared, CONTENT_TYPE=content_type, **auth
    )

    assert 400 <= response.status_code < 500, response.content
    assert response.json()["error"]
    assert Printer.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/api/v1/printers/", "application/json", b'{"name": "x"}'),
        ("/api/v1/printers/{id}/predict/", MULTIPART, multipart(files=1)),
    ],
)
def test_a_body_shorter_than_its_content_length_is_4xx(printing, auth, path, content_type, body):
    response = raw_request(
        "POST",
        path.format(id=printing.id),
        body,
        content_length=str(len(body) + 1000),
        CONTENT_TYPE=content_type,
        **auth,
    )

    if not auth:  # the body is never read
        assert response.status_code == 401
    elif content_type == MULTIPART:  # Django's parser reads the parts that came; the image is cut
        assert response.status_code == 400
        assert response.json()["error"].startswith("img: ")
    else:
        assert response.status_code == 400
        assert response.json() == {"error": "The JSON body is shorter than its Content-Length.", "code": "parse_error"}
    assert Printer.objects.count() == 1
    assert PrinterStats.objects.get(printer=printing).prediction_num == 0


NOT_UTF_8 = {"error": "The JSON body is not valid UTF-8.", "code": "parse_error"}
# DRF's CharField refuses them (PostgreSQL could not store them); fields we do not take are ignored.
LONE_SURROGATE = {
    "error": "name: Surrogate characters are not allowed: U+D800.",
    "code": "invalid",
    "details": {"name": ["Surrogate characters are not allowed: U+D800."]},
}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\xff\xfe{\x00}\x00", NOT_UTF_8),
        (b'{"name": "\xc3"}', NOT_UTF_8),
        (b'{"name": "\xed\xa0\x80"}', NOT_UTF_8),
        (b'{"name": "\\ud800"}', LONE_SURROGATE),
    ],
    ids=["utf-16-bom", "cut-utf-8", "surrogate-bytes", "lone-surrogate-escape"],
)
def test_json_that_is_not_utf_8_or_has_lone_surrogates_is_400(api, body, expected):
    response = api.generic("POST", "/api/v1/printers/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == expected
    assert not Printer.objects.exists()


def test_a_surrogate_pair_escape_is_one_character(api):
    response = api.generic(
        "POST", "/api/v1/printers/", b'{"name": "rocket \\ud83d\\ude80"}', content_type="application/json"
    )

    assert response.status_code == 201
    assert response.json()["name"] == "rocket \U0001f680"


def test_a_valid_predict_still_works_after_all_that(api, printing):
    response = api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot()}, format="multipart")

    assert response.status_code == 200


# --- 6. Path ids -------------------------------------------------------------------------------------

ID_ROUTES = [
    ("GET", "/api/v1/printers/{id}/"),
    ("PATCH", "/api/v1/printers/{id}/"),
    ("DELETE", "/api/v1/printers/{id}/"),
    ("POST", "/api/v1/printers/{id}/start_print/"),
    ("POST", "/api/v1/printers/{id}/predict/"),
    ("POST", "/api/v1/printers/{id}/finish_print/"),
    ("GET", "/api/v1/prints/{id}/"),
    ("GET", "/api/v1/prints/{id}/predictions/"),
    ("GET", "/api/v1/prints/{id}/alerts/"),
    ("GET", "/api/v1/alerts/{id}/snapshot/"),
    ("POST", "/api/v1/alerts/{id}/feedback/"),
]


@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
@pytest.mark.parametrize(
    "object_id",
    # The schema's integer bounds (1 to 2**63 - 1) and what is not an integer at all: never a 500.
    ["0", "-1", "9223372036854775807", "9223372036854775808", "99999999999999999999", "abc", "1.0", "1e3", "%D9%A3"],
)
def test_impossible_path_ids_are_a_json_404_on_every_route(api, method, path, object_id):
    if path.endswith("/predict/"):
        response = api.post(path.format(id=object_id), {"img": snapshot()}, format="multipart")
    else:
        response = api.generic(method, path.format(id=object_id), b"{}", content_type="application/json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
