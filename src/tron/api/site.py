"""Who trond is on the web: the host names it answers to and the origins it trusts.

Pure values and parsing; `guard.py` applies them to requests. A browser names the server it
meant in `Host` (a DNS-rebinding page names the attacker's domain there) and the page a
request comes from in `Origin`, so both are compared exactly, scheme and port included.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class HostRule:
    """One name trond answers to; `port` None means on any port (behind a proxy)."""

    name: str
    port: int | None = None

    def matches(self, name: str, port: int | None) -> bool:
        return self.name in ("*", name) and self.port in (None, port)


@dataclass(frozen=True, slots=True, kw_only=True)
class SitePolicy:
    """The Host names trond serves and the cross-origin pages it trusts (CORS allow-list).

    `any_ip_host` accepts every IP literal as Host: a DNS-rebinding page always sends a
    domain name there, so an address cannot be one (used when trond binds every interface).
    """

    hosts: tuple[HostRule, ...]
    any_ip_host: bool = False
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def serving(
        cls,
        bind: str,
        port: int | None,
        *,
        allowed_hosts: tuple[str, ...] = (),
        cors_origins: tuple[str, ...] = (),
    ) -> SitePolicy:
        """Loopback names and the bound address on the serving port, plus `allowed_hosts`
        (`NAME` on any port, `NAME:PORT`, or `*` for any Host)."""
        names = [*LOOPBACK_NAMES]
        wildcard = bind in WILDCARD_ADDRESSES
        if not wildcard:
            names.append(host_literal(bind))
        rules = [HostRule(name, port) for name in dict.fromkeys(names)]
        rules += [parse_host_rule(value) for value in allowed_hosts]
        origins = tuple(parse_origin(value) for value in cors_origins)
        return cls(hosts=tuple(rules), any_ip_host=wildcard, cors_origins=origins)

    def accepts_host(self, header: str | None, scheme: str) -> bool:
        """Whether a request's Host header names this trond; no header (HTTP/1.0) passes."""
        if header is None:
            return True
        parsed = split_host(header, scheme)
        if parsed is None:
            return False
        name, port = parsed
        if any(rule.matches(name, port) for rule in self.hosts):
            return True
        return self.any_ip_host and is_ip_literal(name)

    def is_own_origin(self, origin: str, host: str | None, scheme: str) -> bool:
        """Whether `origin` is the origin the request was sent to (its scheme and Host)."""
        own = normalize_origin(f"{scheme}://{host}") if host else None
        return own is not None and normalize_origin(origin) == own

    def trusts_origin(self, origin: str) -> bool:
        """Whether `origin` is on the CORS allow-list (`--cors-origin`)."""
        normal = normalize_origin(origin)
        return normal is not None and any(normal == normalize_origin(o) for o in self.cors_origins)


def host_literal(address: str) -> str:
    """An address as it appears in a Host header: IPv6 in brackets, names lowercased."""
    address = address.strip().lower().rstrip(".")
    if ":" in address and not address.startswith("["):
        return f"[{address}]"
    return address


def parse_host_rule(value: str) -> HostRule:
    """`NAME`, `NAME:PORT`, `[V6]`, `[V6]:PORT` or `*`, as given to `--allowed-host`."""
    value = value.strip().lower()
    if value == "*":
        return HostRule("*")
    parsed = split_host(value, None)
    if parsed is None:
        raise ValueError(f"not a host name: {value!r}")
    return HostRule(*parsed)


def split_host(header: str, scheme: str | None) -> tuple[str, int | None] | None:
    """(name, port) of a Host value; the scheme's default port when none is written (None
    when no scheme is given); None when malformed."""
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        if end < 0:
            return None
        name, rest = header[: end + 1], header[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:] if rest else None
    else:
        name, _, port_text = header.partition(":")
        port_text = port_text if ":" in header else None
    name = name.rstrip(".") if not name.startswith("[") else name
    if not name:
        return None
    if port_text is None:
        return name, _DEFAULT_PORTS.get(scheme or "")
    if not (port_text.isascii() and port_text.isdigit() and 0 < len(port_text) <= 5):
        return None
    return name, int(port_text)


def parse_origin(value: str) -> str:
    """An origin as given to `--cors-origin` (`https://host[:port]`), without a final slash."""
    value = value.strip().rstrip("/")
    if normalize_origin(value) is None:
        raise ValueError(f"not an origin (scheme://host[:port]): {value!r}")
    return value


def normalize_origin(origin: str) -> str | None:
    """`scheme://host:port` with the default port written out; None when not an origin."""
    scheme, sep, rest = origin.strip().lower().partition("://")
    if not sep or scheme not in _DEFAULT_PORTS or "/" in rest:
        return None
    parsed = split_host(rest, scheme)
    if parsed is None:
        return None
    name, port = parsed
    return f"{scheme}://{name}:{port}"


def is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True
