"""The one HTTP boundary: httpx's outcomes mapped onto the error tree, on a real httpx.Client over MockTransport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from ytmaker.errors import (
    ContentRejected,
    CredentialsRejected,
    InvalidInput,
    PermanentError,
    ProviderUnavailable,
    QuotaExceeded,
    TransientError,
)
from ytmaker.logs import register_secret
from ytmaker.providers.http import (
    ErrorBody,
    Service,
    google_body,
    parse_retry_after,
    raise_for_status,
    request,
    translate_transport_errors,
)

SERVICE = Service("Acme TTS", credentials="check YTMAKER_ACME_KEY")


def client_answering(handler) -> httpx.Client:
    """A real client whose transport calls ``handler(request)``: a Response, or an exception raised."""
    return httpx.Client(base_url="https://api.acme.test", transport=httpx.MockTransport(handler))


def answer(status: int, body: bytes | str = b"", **headers: str) -> httpx.Client:
    return client_answering(lambda r: httpx.Response(status, content=body, headers=headers))


def call(client: httpx.Client, **kwargs) -> httpx.Response:
    return request(client, SERVICE, "POST", "/v1/speak", what="synthesis", **kwargs)


@pytest.mark.parametrize("status", [200, 201, 204])
def test_a_2xx_answer_is_returned(status):
    response = call(answer(status, b"ok"))

    assert response.status_code == status and response.content == b"ok"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_429_and_5xx_are_transient_with_the_retry_after_in_seconds(status):
    with pytest.raises(ProviderUnavailable) as caught:
        call(answer(status, "busy, come back later", **{"Retry-After": "12"}))

    assert caught.value.retry_after == 12
    assert str(caught.value) == f"Acme TTS synthesis failed (HTTP {status}: busy, come back later)"


def test_a_retry_after_given_as_an_http_date_becomes_seconds_from_now():
    when = datetime.now(UTC) + timedelta(seconds=90)

    with pytest.raises(ProviderUnavailable) as caught:
        call(answer(503, **{"Retry-After": format_datetime(when, usegmt=True)}))

    assert 85 <= caught.value.retry_after <= 90


@pytest.mark.parametrize("header", [None, "soon", "", "nan"])
def test_a_missing_or_unreadable_retry_after_leaves_the_delay_to_the_backoff(header):
    headers = {} if header is None else {"Retry-After": header}

    with pytest.raises(ProviderUnavailable) as caught:
        call(answer(429, **headers))

    assert caught.value.retry_after is None


@pytest.mark.parametrize("value, expected", [("0", 0.0), ("7.5", 7.5), ("-3", 0.0), ("  42 ", 42.0),
                                             ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("inf", None), ("later", None)])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


@pytest.mark.parametrize("status, says", [
    (401, "Acme TTS rejected the credentials for the synthesis"),
    (403, "Acme TTS refused the synthesis: the credentials lack access"),
])
def test_401_and_403_are_rejected_credentials_with_the_services_hint(status, says):
    with pytest.raises(CredentialsRejected) as caught:
        call(answer(status, "invalid key"))

    assert str(caught.value) == f"{says} (HTTP {status}: invalid key); check YTMAKER_ACME_KEY"
    assert not isinstance(caught.value, TransientError)


def test_402_is_an_account_out_of_credits():
    with pytest.raises(QuotaExceeded, match="out of credits"):
        call(answer(402, "payment required"))


@pytest.mark.parametrize("status", [400, 404, 409, 413, 422])
def test_other_4xx_are_invalid_input(status):
    with pytest.raises(InvalidInput, match=f"Acme TTS rejected the synthesis \\(HTTP {status}"):
        call(answer(status, "no such voice"))


def test_an_unexpected_3xx_is_not_taken_for_success():
    with pytest.raises(PermanentError):
        call(answer(302, Location="https://elsewhere.test/"))


def test_a_timeout_is_transient_and_chained():
    def slow(request):
        raise httpx.ReadTimeout("timed out reading", request=request)

    with pytest.raises(ProviderUnavailable, match="Acme TTS timed out: no answer to the synthesis in time") as caught:
        call(client_answering(slow))

    assert isinstance(caught.value.__cause__, httpx.ReadTimeout) and caught.value.retry_after is None


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError])
def test_connection_errors_are_transient_and_chained(error):
    def broken(request):
        raise error("boom", request=request)

    with pytest.raises(ProviderUnavailable, match=f"connection to Acme TTS was lost during the synthesis "
                                                  f"\\({error.__name__}\\)") as caught:
        call(client_answering(broken))

    assert isinstance(caught.value.__cause__, error)


def test_errors_other_than_httpx_ones_pass_through_the_transport_translation():
    with pytest.raises(KeyError), translate_transport_errors(SERVICE, "synthesis"):
        raise KeyError("not an HTTP problem")


def test_the_special_hook_is_asked_first_with_the_parsed_masked_body():
    seen = []

    def special(response, body):
        seen.append(body)
        return ContentRejected("moderated") if body.message == "flagged" else None

    with pytest.raises(ContentRejected, match="moderated"):
        call(answer(403, "flagged"), special=special)
    with pytest.raises(CredentialsRejected):  # None: the generic mapping decides
        call(answer(403, "forbidden"), special=special)

    assert seen == [ErrorBody(403, message="flagged"), ErrorBody(403, message="forbidden")]


def test_the_special_hook_is_not_asked_on_success():
    def special(response, body):
        raise AssertionError("asked on a 200")

    assert call(answer(200, b"fine"), special=special).status_code == 200


def test_a_services_reader_gives_the_label_and_message():
    def reader(response):
        body = response.json()
        return ErrorBody(response.status_code, label=body["kind"], message=body["description"])

    service = Service("Acme", credentials="x", read=reader, then="; it resumes later")

    with pytest.raises(ProviderUnavailable) as caught:
        request(answer(503, '{"kind": "Overloaded", "description": "too many talks"}'), service, "GET", "/t",
                what="talk check")

    assert str(caught.value) == "Acme talk check failed (HTTP 503 Overloaded: too many talks); it resumes later"


def test_secrets_echoed_in_an_error_body_are_masked():
    secret = "sk-acme-very-secret-4711"
    register_secret(secret)

    with pytest.raises(InvalidInput) as caught:
        call(answer(400, f"the key {secret} is not allowed here"))

    assert secret not in str(caught.value) and "is not allowed here" in str(caught.value)


def test_a_long_error_page_is_cut_and_its_whitespace_folded():
    with pytest.raises(InvalidInput) as caught:
        call(answer(400, "<html>\n  <body>" + "x" * 5000 + "</body></html>"))

    message = str(caught.value)
    assert "\n" not in message and len(message) < 400


def test_google_error_bodies_give_every_reason():
    body = {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "API key not valid.",
                      "errors": [{"reason": "badRequest"}],
                      "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}}

    parsed = google_body(httpx.Response(400, json=body))

    assert parsed == ErrorBody(400, label="badRequest", message="API key not valid.",
                               reasons=frozenset({"badRequest", "API_KEY_INVALID"}))
    assert google_body(httpx.Response(502, text="<html>Bad Gateway</html>")).message == "<html>Bad Gateway</html>"
    assert google_body(httpx.Response(400, json={"error": {"status": "FAILED_PRECONDITION"}})).label == "FAILED_PRECONDITION"


def test_raise_for_status_reads_a_streamed_answer_once_read():
    client = answer(503, "busy", **{"Retry-After": "3"})

    with pytest.raises(ProviderUnavailable) as caught, client.stream("GET", "/file") as response:
        response.read()
        raise_for_status(response, SERVICE, "download")

    assert caught.value.retry_after == 3 and "HTTP 503: busy" in str(caught.value)
