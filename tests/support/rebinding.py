"""A resolver for DNS-rebinding tests, put in place of the product's (``network.resolve``)."""
from datasources.security import network

REBINDING_NAME = "rebind.invalid"  # resolves through Rebinding only: a client that looks it up itself fails


class Rebinding:
    """Answers ``first`` for REBINDING_NAME, then ``then`` on every later lookup; other names resolve
    as usual. ``calls`` counts the lookups of REBINDING_NAME."""

    def __init__(self, first, then, resolve=network.resolve):
        self.answers, self.calls, self.resolve = [first, then], [], resolve

    def __call__(self, host, port):
        if host != REBINDING_NAME:
            return self.resolve(host, port)
        self.calls.append(host)
        return [self.answers[min(len(self.calls), 2) - 1]]


def rebinding(monkeypatch, first="127.0.0.1", then="169.254.169.254") -> Rebinding:
    resolver = Rebinding(first, then)
    monkeypatch.setattr(network, "resolve", resolver)
    return resolver
