"""The one client for outbound HTTP (alert webhooks): no request reaches a non-public address.

A URL is checked by resolving its host once and looking at every address it resolves to:
loopback, private, link-local (cloud metadata at 169.254.169.254), shared, reserved, multicast
and unspecified addresses are refused, also when written as a decimal integer (``2130706433``),
in hex, behind userinfo (``http://a@127.0.0.1``) or embedded in IPv6 (``::ffff:127.0.0.1``,
6to4, NAT64). ``settings.OUTBOUND_ALLOWED_CIDRS`` lists networks that are allowed all the same
(the tests allow ``127.0.0.1/32``). The request then connects to the very address that was
checked (the original host goes in ``Host`` and in TLS's SNI and certificate check), so a DNS
answer that changes between check and connect cannot redirect it; redirects are not followed,
and connect and read each time out.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import urllib3
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 ranges that carry an IPv4 address in their last 32 bits (IPv4-compatible and NAT64).
_V4_IN_LAST_32 = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b::/96"))


class OutboundRefused(ValueError):
    """The URL is malformed, does not resolve, or reaches an address that is not allowed."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str
    authorization: str | None


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def allowed_networks() -> tuple:
    return _networks(tuple(settings.OUTBOUND_ALLOWED_CIDRS))


def _embedded_v4(ip: IPAddress) -> list[IPAddress]:
    if ip.version == 4:
        return []
    found = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
    found += [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) for net in _V4_IN_LAST_32 if ip in net]
    return [a for a in found if a is not None]


def address_allowed(ip: IPAddress) -> bool:
    """A global unicast address, or one inside ``OUTBOUND_ALLOWED_CIDRS``."""
    candidates = [ip, *_embedded_v4(ip)]
    networks = allowed_networks()
    if any(c in n for c in candidates for n in networks if n.version == c.version):
        return True
    return all(c.is_global and not c.is_multicast for c in candidates)


def resolve(url: str) -> Target:
    """Parse and resolve ``url``; raise OutboundRefused unless every address it names is allowed."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused("not an http(s) URL with a host")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused(f"the host {parts.hostname!r} does not resolve") from exc
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
    if not addresses or not all(address_allowed(a) for a in addresses):
        # The address itself is not named: an error message must not map the internal network.
        raise OutboundRefused(f"the host {parts.hostname!r} is not a public address")
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = "Basic " + base64.b64encode(pair).decode()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]), authorization)


def check_url(url: str) -> str:
    """``url`` unchanged when it may be called; OutboundRefused otherwise."""
    resolve(url)
    return url


def without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` removed: for records and for readers of them."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return ""
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _pool(target: Target, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False)


def post(url: str, *, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    """POST ``body`` once; returns the HTTP status (a 3xx is returned, never followed).

    Raises OutboundRefused for a refused URL and urllib3's HTTPError subclasses (timeouts,
    refused connections, ...) when the request fails on the wire.
    """
    target = resolve(url)
    default_port = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    send = {**headers, "Host": host if target.port == default_port else f"{host}:{target.port}"}
    if target.authorization:
        send["Authorization"] = target.authorization
    timeout = urllib3.Timeout(connect=timeout_s, read=timeout_s)
    with _pool(target, timeout) as pool:
        response = pool.urlopen("POST", target.path, body=body, headers=send, redirect=False, retries=False)
        return response.status
