"""ytmaker.sources.web.fetch against a real HTTP server on loopback: limits, errors, and the refused addresses.

Names are resolved by an injected resolver, so no test needs DNS or the internet. Where a hop must look public, the
resolver gives a public address (PUBLIC_IP) and ``route_public`` makes the machine's sockets carry it to the
local server, the way a network would: the code under test still resolves, vets and pins for real.
"""

from __future__ import annotations

import datetime
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ytmaker.config import Settings
from ytmaker.errors import InputTooLarge, InvalidInput
from ytmaker.sources import web
from ytmaker.sources.web import USER_AGENT, fetch

PUBLIC_IP = "93.184.216.34"  # a public address; route_public carries connections to it to the local server
ARTICLE = b"<html><head><title>Bridges</title></head><body><p>Bridges sway.</p></body></html>"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
CHUNK = b"x" * 65536


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.server.requests.append((self.path, dict(self.headers.items())))
        path = self.path
        if path == "/article":
            self._answer(200, ARTICLE, "text/html; charset=utf-8")
        elif path in ("/start", "/loop", "/to-metadata", "/to-file"):
            target = {"/start": "/article", "/loop": "/loop", "/to-metadata": "http://metadata.example/latest/",
                      "/to-file": "file:///etc/passwd"}[path]
            self._answer(302, b"", "text/plain", location=target)
        elif path == "/image":
            self._answer(200, PNG, "image/png")
        elif path == "/hang":  # never answers: released when the test ends
            self.server.release.wait(30)
        elif path == "/big-declared":  # declares 50 MB and sends a little: the client must refuse from the header
            self._answer(200, CHUNK, "text/html", length=50_000_000)
        elif path == "/big-streamed":  # 50 MB with no Content-Length, as fast as the client reads
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(50_000_000 // len(CHUNK)):
                    self.wfile.write(CHUNK)
            except OSError:  # the client hung up at its limit
                pass
        else:
            self._answer(404, b"not here", "text/plain")

    def _answer(self, status: int, body: bytes, content_type: str, *, location: str = "", length: int = -1) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length < 0 else length))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.release = threading.Event()
        self.port = self.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()
    thread.join(10)


@pytest.fixture
def route_public(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Carry connections to PUBLIC_IP to 127.0.0.1 (same port), and record the address each connection asked for."""
    asked: list[str] = []
    real = socket.create_connection

    def create_connection(address, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(address[0])
        host = "127.0.0.1" if address[0] == PUBLIC_IP else address[0]
        return real((host, address[1]), *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return asked


def resolver(table: dict[str, list[str]], calls: list[str] | None = None):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        return table[host]

    return resolve


def trusted(**overrides: object) -> Settings:
    return Settings(fetch_allow_private=True, **overrides)  # type: ignore[arg-type]


def public_only(**overrides: object) -> Settings:
    return Settings(fetch_allow_private=False, **overrides)  # type: ignore[arg-type]


# --- what a fetch returns ---

def test_follows_a_redirect_and_returns_the_page_its_type_and_the_final_url(server: Server) -> None:
    fetched = fetch(server.url("/start"), trusted())
    assert fetched.body == ARTICLE
    assert (fetched.content_type, fetched.charset) == ("text/html", "utf-8")
    assert fetched.url == server.url("/article")
    assert [path for path, _ in server.requests] == ["/start", "/article"]
    assert server.requests[0][1]["User-Agent"] == USER_AGENT


def test_connects_to_the_vetted_address_with_the_name_in_the_host_header(server: Server) -> None:
    calls: list[str] = []
    fetched = fetch(server.url("/start", host="news.example"), trusted(), resolve=resolver({"news.example": ["127.0.0.1"]}, calls))
    assert fetched.url == server.url("/article", host="news.example")
    assert [headers["Host"] for _, headers in server.requests] == [f"news.example:{server.port}"] * 2
    assert calls == ["news.example", "news.example"]  # resolved once per hop: the address used is the address vetted


def test_a_public_name_is_fetched_at_the_address_it_was_vetted_at(server: Server, route_public: list[str]) -> None:
    fetched = fetch(server.url("/article", host="news.example"), public_only(), resolve=resolver({"news.example": [PUBLIC_IP]}))
    assert fetched.body == ARTICLE
    assert route_public == [PUBLIC_IP]
    assert server.requests[0][1]["Host"] == f"news.example:{server.port}"


# --- bad answers ---

def test_a_404_says_what_the_url_answered(server: Server) -> None:
    url = server.url("/missing")
    with pytest.raises(InvalidInput, match="answered 404 Not Found") as caught:
        fetch(url, trusted())
    assert str(caught.value).startswith(url)


def test_a_server_that_never_answers_times_out_at_the_setting(server: Server) -> None:
    started = time.monotonic()
    with pytest.raises(InvalidInput, match=r"did not answer within 0.5 s \(YTMAKER_FETCH_TIMEOUT_S\)"):
        fetch(server.url("/hang"), trusted(fetch_timeout_s=0.5))
    assert time.monotonic() - started < 5


def test_a_redirect_loop_stops_after_the_allowed_redirects(server: Server) -> None:
    with pytest.raises(InvalidInput, match=r"redirected more than 3 times \(YTMAKER_FETCH_MAX_REDIRECTS\)"):
        fetch(server.url("/loop"), trusted(fetch_max_redirects=3))
    assert len(server.requests) == 4


def test_a_redirect_to_another_scheme_is_refused(server: Server) -> None:
    with pytest.raises(InvalidInput, match=r"'file:/+etc/passwd' \(where .*/to-file redirected\) is not an http:// or https:// URL"):
        fetch(server.url("/to-file"), trusted())


def test_a_50_mb_answer_with_content_length_is_refused_from_its_header(server: Server) -> None:
    with pytest.raises(InputTooLarge, match=r"is 50.0 MB, over the 10.0 MB limit \(YTMAKER_FETCH_MAX_BYTES\)"):
        fetch(server.url("/big-declared"), trusted())


def test_a_50_mb_answer_without_content_length_is_cut_at_the_limit(server: Server) -> None:
    with pytest.raises(InputTooLarge, match=r"sent more than 10.0 MB, the limit \(YTMAKER_FETCH_MAX_BYTES\)"):
        fetch(server.url("/big-streamed"), trusted())


def test_an_image_is_refused_by_its_type(server: Server) -> None:
    with pytest.raises(InvalidInput, match=r"is an image \(image/png\); ytmaker reads web pages"):
        fetch(server.url("/image"), trusted())


@pytest.mark.parametrize("url", ["ftp://example.com/a.txt", "file:///etc/passwd", "not a url", "https://"])
def test_only_http_and_https_urls_are_fetched(url: str) -> None:
    with pytest.raises(InvalidInput):
        fetch(url, public_only())


# --- fetching is not a way in ---

@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "a loopback"),
    ("169.254.169.254", "a cloud metadata"),
    ("::1", "a loopback"),
    ("::ffff:127.0.0.1", "a loopback"),
    ("10.1.2.3", "a private"),
    ("100.64.0.7", "a shared \\(CGNAT\\)"),
    ("fd00:ec2::254", "a cloud metadata"),
    ("0.0.0.0", "an unspecified"),
    ("224.0.0.1", "a multicast"),
])
def test_a_name_resolving_to_a_non_public_address_is_refused(server: Server, address: str, kind: str) -> None:
    with pytest.raises(InvalidInput, match=f"innocent.example resolves to {address}, {kind} address") as caught:
        fetch(server.url("/article", host="innocent.example"), public_only(), resolve=resolver({"innocent.example": [address]}))
    assert "YTMAKER_FETCH_ALLOW_PRIVATE=1" in str(caught.value)
    assert server.requests == []


def test_one_refused_address_among_public_ones_refuses_the_name(server: Server) -> None:
    with pytest.raises(InvalidInput, match=re.escape("resolves to 127.0.0.1, a loopback address")):
        fetch(server.url("/article", host="mixed.example"), public_only(), resolve=resolver({"mixed.example": [PUBLIC_IP, "127.0.0.1"]}))
    assert server.requests == []


@pytest.mark.parametrize(("host", "refusal"), [
    ("127.0.0.1", "127.0.0.1 is a loopback address"),
    ("[::1]", "::1 is a loopback address"),
    ("2130706433", "2130706433 resolves to 127.0.0.1, a loopback address"),  # 127.0.0.1 as one number
])
def test_a_literal_loopback_url_is_refused(server: Server, host: str, refusal: str) -> None:
    with pytest.raises(InvalidInput, match=refusal):
        fetch(server.url("/article", host=host), public_only())
    assert server.requests == []


def test_a_name_that_rebinds_to_loopback_after_its_check_is_still_fetched_from_the_checked_address(
    server: Server, route_public: list[str]
) -> None:
    answers = iter([[PUBLIC_IP], ["127.0.0.1"], ["127.0.0.1"]])
    fetched = fetch(server.url("/article", host="rebind.example"), public_only(), resolve=lambda host, port: next(answers))
    assert fetched.body == ARTICLE
    assert route_public == [PUBLIC_IP]  # the connection went to the address that was vetted, not to a later answer


def test_a_public_first_hop_that_redirects_to_the_metadata_address_is_refused(server: Server, route_public: list[str]) -> None:
    names = {"news.example": [PUBLIC_IP], "metadata.example": ["169.254.169.254"]}
    with pytest.raises(InvalidInput, match=re.escape("metadata.example resolves to 169.254.169.254, a cloud metadata address")) as caught:
        fetch(server.url("/to-metadata", host="news.example"), public_only(), resolve=resolver(names))
    assert "redirected from" in str(caught.value)
    assert [path for path, _ in server.requests] == ["/to-metadata"]
    assert route_public == [PUBLIC_IP]  # nothing was sent towards the refused address


# --- TLS: the connection is pinned to the address, the certificate is checked against the name ---

def _certificates(tmp: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for ``name`` that it signed: (CA file, certificate file, key file)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def build(subject: str, key, issuer: str, signer, *, ca: bool):  # type: ignore[no-untyped-def]
        now = datetime.datetime.now(datetime.UTC)
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(hours=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("ytmaker test CA", ca_key, "ytmaker test CA", ca_key, ca=True)
    leaf = build(name, key, "ytmaker test CA", ca_key, ca=False)
    files = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return files


@pytest.fixture
def tls_server(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """The local server speaking TLS with a certificate for the name the test asks for (default secure.example)."""
    ca_file, cert_file, key_file = _certificates(tmp_path, getattr(request, "param", "secure.example"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    server.sni = []  # type: ignore[attr-defined]
    context.sni_callback = lambda sock, name, ctx: server.sni.append(name)  # type: ignore[attr-defined]
    server.socket = context.wrap_socket(server.socket, server_side=True)
    monkeypatch.setattr(web, "_tls", lambda: ssl.create_default_context(cafile=str(ca_file)))  # trust the test CA
    return server


def test_https_goes_to_the_vetted_address_with_the_name_as_server_name_and_host(tls_server: Server) -> None:
    url = f"https://secure.example:{tls_server.port}/article"
    fetched = fetch(url, trusted(), resolve=resolver({"secure.example": ["127.0.0.1"]}))
    assert fetched.body == ARTICLE
    assert tls_server.sni == ["secure.example"]  # type: ignore[attr-defined]
    assert tls_server.requests[0][1]["Host"] == f"secure.example:{tls_server.port}"


@pytest.mark.parametrize("tls_server", ["other.example"], indirect=True)
def test_https_checks_the_certificate_against_the_name_not_the_address(tls_server: Server) -> None:
    with pytest.raises(InvalidInput, match=re.escape("could not connect to https://secure.example")) as caught:
        fetch(f"https://secure.example:{tls_server.port}/article", trusted(), resolve=resolver({"secure.example": ["127.0.0.1"]}))
    assert "certificate" in str(caught.value).lower()
    assert tls_server.requests == []
