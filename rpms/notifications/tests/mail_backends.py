"""E-mail backends for the tests of e-mail delivery: a mail server that is down, then comes back."""
from django.core.mail.backends.locmem import EmailBackend as LocMemBackend


class ServerDown(ConnectionRefusedError):
    pass


class DownBackend(LocMemBackend):
    """Refuses the connection, like an SMTP server that is not running."""

    def open(self):
        raise ServerDown("[Errno 111] Connection refused")

    def send_messages(self, messages):
        raise ServerDown("[Errno 111] Connection refused")


class RefusingBackend(LocMemBackend):
    """Connects, then fails to send every message (e.g. the server answers 451)."""

    def send_messages(self, messages):
        raise OSError("451 temporary local problem")
