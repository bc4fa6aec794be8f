"""One-use, short-lived tickets that open the event stream in place of the API token.

A browser's EventSource cannot send an Authorization header, and a token in a URL ends up
in logs and history; a ticket in the URL is worth one connection within a minute.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

TICKET_SECONDS = 60.0
# Unredeemed tickets are forgotten oldest first past this many: memory stays bounded.
MAX_TICKETS = 1024


class TicketBook:
    """Tickets issued to token holders, each redeemable once before it expires."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._expiry: dict[str, float] = {}

    def issue(self) -> str:
        self._forget_expired()
        while len(self._expiry) >= MAX_TICKETS:
            del self._expiry[next(iter(self._expiry))]
        ticket = secrets.token_urlsafe(24)
        self._expiry[ticket] = self.clock() + TICKET_SECONDS
        return ticket

    def redeem(self, ticket: str) -> bool:
        """True once for a ticket issued less than TICKET_SECONDS ago; False ever after."""
        expiry = self._expiry.pop(ticket, None)
        return expiry is not None and self.clock() < expiry

    def __len__(self) -> int:
        return len(self._expiry)

    def _forget_expired(self) -> None:
        now = self.clock()
        for ticket in [t for t, expiry in self._expiry.items() if expiry <= now]:
            del self._expiry[ticket]
