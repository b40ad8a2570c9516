"""Fetch a URL's page or document: http(s) only, bounded in size, time and redirects, and never into a private network.

Every hop's name is resolved here and each address it resolves to is vetted; the request then goes to the vetted
address itself (the URL's host replaced by the IP) while the name stays in the Host header and is the TLS server name
(httpcore's ``sni_hostname`` extension), so certificates are still checked against the name. A DNS answer that
changes between the check and the connection (rebinding) cannot redirect the request. Redirects are followed here,
one vetted hop at a time.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from functools import cache

import certifi
import httpx

from ytmaker import __version__
from ytmaker.config import Settings
from ytmaker.errors import InputTooLarge, InvalidInput

#: (host, port) -> the addresses the host resolves to
Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: media types ytmaker has a reader for
ACCEPTED_TYPES = frozenset({
    "text/html", "application/xhtml+xml", "text/plain", "text/markdown", "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
})
USER_AGENT = f"ytmaker/{__version__} (text-to-video; fetches one page or document a person asked for)"
_ACCEPT = ",".join(sorted(ACCEPTED_TYPES)) + ",*/*;q=0.1"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # a NAT64 gateway would carry these to the IPv4 address inside
_READS = "web pages, plain text, Markdown, PDF and Word (.docx) documents"


@dataclass(frozen=True)
class Fetched:
    body: bytes
    content_type: str  # the media type, lowercased, without parameters
    charset: str | None  # the Content-Type's charset parameter, if any
    url: str  # the final URL, after redirects


def fetch(url: str, settings: Settings, *, resolve: Resolver | None = None) -> Fetched:
    """Fetch ``url`` within the ``fetch_*`` settings; every failure is an :class:`InvalidInput` that says why."""
    deadline = _Deadline(url, settings.fetch_timeout_s)
    first = current = _parse(url, repr(url))
    try:
        for _ in range(settings.fetch_max_redirects + 1):
            where = str(current) if current == first else f"{current} (redirected from {first})"
            addresses = _vetted(current, where, settings, resolve or _system_resolve, deadline)
            # a client per hop: a pooled TLS connection must never serve another name on the same address
            with (
                httpx.Client(verify=_tls(), trust_env=False, timeout=deadline.left()) as client,
                closing(_connect(client, current, addresses, where)) as response,
            ):
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    current = _parse(str(current.join(location)), f"{location!r} (where {where} redirected)")
                    continue
                return _answer(response, current, where, settings.fetch_max_bytes, deadline)
    except httpx.TimeoutException as exc:
        raise InvalidInput(deadline.message) from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise InvalidInput(f"fetching {current} failed: {exc or type(exc).__name__}") from exc
    raise InvalidInput(f"{first} redirected more than {settings.fetch_max_redirects} times (YTMAKER_FETCH_MAX_REDIRECTS)")


class _Deadline:
    """The whole fetch's time limit, redirects included: every wait gets what is left of it."""

    def __init__(self, url: str, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.message = f"{url} did not answer within {seconds:g} s (YTMAKER_FETCH_TIMEOUT_S)"

    def left(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise InvalidInput(self.message)
        return left


def _parse(url: str, named: str) -> httpx.URL:
    """``url`` (a redirect's target is joined to its hop first, relative to the name, not to the address)."""
    try:
        parsed = httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise InvalidInput(f"{named} is not a valid URL: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInput(f"{named} is not an http:// or https:// URL; ytmaker fetches only those")
    return parsed


def _answer(response: httpx.Response, url: httpx.URL, where: str, limit: int, deadline: _Deadline) -> Fetched:
    """The final answer's body, if its status, type and size are ones ytmaker takes."""
    if not response.is_success:
        raise InvalidInput(f"{where} answered {response.status_code} {response.reason_phrase}".rstrip())
    media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    unnamed = media_type in ("", "application/octet-stream")
    if not unnamed and media_type not in ACCEPTED_TYPES:  # refused before its body is read
        raise _unsupported(where, media_type)
    body = _read(response, where, limit, deadline)
    media_type = _sniff(body, url) if unnamed else media_type
    if media_type not in ACCEPTED_TYPES:
        raise _unsupported(where, media_type)
    return Fetched(body, media_type, response.charset_encoding, str(url))


def _vetted(url: httpx.URL, where: str, settings: Settings, resolve: Resolver, deadline: _Deadline) -> list[str]:
    """The addresses to connect to, each checked: one refused address refuses the URL (DNS answers vary)."""
    host = url.raw_host.decode("ascii")
    try:
        addresses = [host] if ipaddress.ip_address(host) else []  # a literal address needs no DNS
    except ValueError:
        addresses = _resolve_within(resolve, host, url.port or (443 if url.scheme == "https" else 80), deadline)
    if not addresses:
        raise InvalidInput(f"could not find {host}: DNS gave no address for it")
    if settings.fetch_allow_private:
        return addresses
    for address in addresses:
        kind = _refused_kind(ipaddress.ip_address(address.partition("%")[0]))
        if kind:
            named = f"{host} is" if host == address else f"{host} resolves to {address},"
            raise InvalidInput(
                f"refused to fetch {where}: {named} {kind} address. ytmaker fetches only from public addresses so that "
                "a URL cannot reach this machine or its network; set YTMAKER_FETCH_ALLOW_PRIVATE=1 to allow it in a trusted setup"
            )
    return addresses


def _refused_kind(ip: IPAddress) -> str | None:
    """The kind of a non-public address ("a loopback", ...), None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if inner is not None:  # an IPv4 address in IPv6 form reaches that IPv4 address
            return _refused_kind(inner)
    checks = (
        ("a cloud metadata", ip in _METADATA), ("an unspecified", ip.is_unspecified), ("a loopback", ip.is_loopback),
        ("a link-local", ip.is_link_local), ("a multicast", ip.is_multicast),
        ("a shared (CGNAT)", isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT),
        ("a private", ip.is_private), ("a reserved", ip.is_reserved), ("a non-public", not ip.is_global),
    )
    return next((kind for kind, refused in checks if refused), None)


def _system_resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InvalidInput(f"could not find {host}: {exc.strerror}; check the URL") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _resolve_within(resolve: Resolver, host: str, port: int, deadline: _Deadline) -> list[str]:
    # getaddrinfo has no timeout of its own: wait for it in a thread, up to the fetch's deadline
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(resolve, host, port).result(timeout=deadline.left())
    except TimeoutError as exc:
        raise InvalidInput(deadline.message) from exc
    finally:
        pool.shutdown(wait=False)


def _connect(client: httpx.Client, url: httpx.URL, addresses: list[str], where: str) -> httpx.Response:
    """Send the GET to the first vetted address that accepts a connection, keeping the name for Host and TLS."""
    headers = {"Host": url.netloc.decode("ascii"), "User-Agent": USER_AGENT, "Accept": _ACCEPT}
    extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
    error: httpx.ConnectError | None = None
    for address in addresses:
        request = client.build_request("GET", url.copy_with(host=address), headers=headers, extensions=extensions)
        try:
            return client.send(request, stream=True)
        except httpx.ConnectError as exc:
            error = exc
    raise InvalidInput(f"could not connect to {where}: {error}") from error


def _read(response: httpx.Response, where: str, limit: int, deadline: _Deadline) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:  # refused before a byte of the body is read
        raise InputTooLarge(f"{where} is {_size(int(declared))}, over the {_size(limit)} limit (YTMAKER_FETCH_MAX_BYTES)")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():  # decoded bytes: a small gzip bomb is counted at its real size
        size += len(chunk)
        if size > limit:
            raise InputTooLarge(f"{where} sent more than {_size(limit)}, the limit (YTMAKER_FETCH_MAX_BYTES)")
        deadline.left()  # a server that trickles bytes is cut at the deadline
        chunks.append(chunk)
    return b"".join(chunks)


def _sniff(body: bytes, url: httpx.URL) -> str:
    """The media type of a body sent without a usable Content-Type, from its first bytes."""
    head = body[:512].lstrip().lower()
    if body.startswith(b"%PDF-"):
        return "application/pdf"
    if body.startswith(b"PK\x03\x04") and url.path.lower().endswith(".docx"):
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if head.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    return ""


def _unsupported(where: str, media_type: str) -> InvalidInput:
    major = media_type.partition("/")[0]
    what = {"image": "an image", "video": "a video", "audio": "an audio file"}.get(major)
    it = f"is {what} ({media_type})" if what else (f"is {media_type}" if media_type else "sent no recognisable content type")
    return InvalidInput(f"{where} {it}; ytmaker reads {_READS}")


@cache
def _tls() -> ssl.SSLContext:
    # one context for every hop and fetch: loading the CA bundle is the slow part of a client
    return ssl.create_default_context(cafile=certifi.where())


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1_000_000 else f"{n:,} bytes"


__all__ = ["ACCEPTED_TYPES", "USER_AGENT", "Fetched", "Resolver", "fetch"]
