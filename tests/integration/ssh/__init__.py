"""Integration tests against real sshd servers on loopback."""
