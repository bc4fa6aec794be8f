"""Host and origin values as trond compares them."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from tron.api.guard import refusal
from tron.api.site import SitePolicy, normalize_origin, parse_host_rule, split_host
from tron.api.tickets import MAX_TICKETS, TICKET_SECONDS, TicketBook

PORT = 8089


def test_host_and_origin_parsing() -> None:
    assert split_host("LocalHost:8089", "http") == ("localhost", 8089)
    assert split_host("localhost", "https") == ("localhost", 443)
    assert split_host("[::1]:80", "http") == ("[::1]", 80)
    assert split_host("[::1]x", "http") is None
    assert split_host("host:99999999999", "http") is None
    assert split_host("host:" + "9" * 5000, "http") is None
    assert normalize_origin("http://localhost") == "http://localhost:80"
    assert normalize_origin("null") is None
    assert normalize_origin("ftp://x") is None
    assert normalize_origin("http://x/path") is None
    assert parse_host_rule("Tron.Example") == parse_host_rule("tron.example")
    with pytest.raises(ValueError, match="not a host name"):
        parse_host_rule("x:notaport")
    with pytest.raises(ValueError, match="not an origin"):
        SitePolicy.serving("127.0.0.1", PORT, cors_origins=("*",))


def test_safe_methods_are_never_refused_for_their_origin() -> None:
    policy = SitePolicy.serving("127.0.0.1", PORT)
    foreign = Headers({"host": f"localhost:{PORT}", "origin": "http://evil.example"})
    assert refusal(policy, "GET", "http", foreign) is None
    assert refusal(policy, "POST", "http", foreign) is not None
    assert refusal(policy, "MADE-UP", "http", foreign) is not None


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_ticket_opens_once_and_only_before_it_expires() -> None:
    clock = FakeClock()
    book = TicketBook(clock)
    first, second = book.issue(), book.issue()
    assert first != second
    assert book.redeem(first)
    assert not book.redeem(first)
    clock.now += TICKET_SECONDS
    assert not book.redeem(second)
    assert not book.redeem("")
    assert not book.redeem("made-up")


def test_unredeemed_tickets_are_bounded() -> None:
    book = TicketBook(FakeClock())
    oldest = book.issue()
    for _ in range(MAX_TICKETS):
        book.issue()
    assert not book.redeem(oldest)
    assert len(book) <= MAX_TICKETS
