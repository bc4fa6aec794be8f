"""systemd's readiness protocol: one datagram to `$NOTIFY_SOCKET` (see `Type=notify` in
examples/systemd/trond.service). Without that variable, as outside systemd, nothing is sent."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

logger = logging.getLogger(__name__)


def notify(state: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Send `state` (e.g. "READY=1") to the service manager; True when it was sent.

    A failure is logged, never raised: readiness is a courtesy to systemd, and trond runs the
    same without it.
    """
    address = environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket: its name starts with a NUL byte
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        logger.warning("cannot tell systemd %r: %s", state, exc)
        return False
    return True
