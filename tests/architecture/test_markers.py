"""The services marker is on every test that reaches a real server, so that
``-m "not services"`` runs everything that needs none.

tests/conftest.py enforces it twice: collection stops when a test uses a server fixture
(tests.support.SERVICE_FIXTURES) without the marker, and ``need()``, which every use of a
real server goes through, fails a test without the marker even when the server is up.
"""
from dataclasses import dataclass, field

import pytest

from tests import support


@dataclass
class FakeItem:
    nodeid: str
    fixturenames: list
    markers: list = field(default_factory=list)

    def get_closest_marker(self, name):
        return name if name in self.markers else None


def test_collection_names_tests_that_use_a_server_fixture_unmarked():
    items = [
        FakeItem("a::marked", ["db", "postgres"], ["services"]),
        FakeItem("a::unmarked", ["db", "sshd"]),
        FakeItem("a::loopback_marked", ["db", "http_server"], ["loopback"]),
        FakeItem("a::loopback_unmarked", ["db", "silent"]),
        FakeItem("a::no_server", ["db", "tmp_path"]),
    ]
    assert support.unmarked_service_users(items) == ["a::unmarked", "a::loopback_unmarked"]


def a_files_own_server_fixture():
    support.need(False, "a server of this file's own")


@dataclass
class FakeDefinition:
    func: object


@dataclass
class FakeInfo:
    name2fixturedefs: dict


def test_a_files_own_fixture_that_needs_a_server_is_caught_at_collection():
    """Not only the shared fixtures: any fixture whose function goes through need() (say, a file's
    moto server) makes its users services tests, found before anything runs."""
    item = FakeItem("a::local", ["db", "moto"])
    item._fixtureinfo = FakeInfo({"db": (FakeDefinition(lambda: None),), "moto": (FakeDefinition(a_files_own_server_fixture),)})
    assert support.unmarked_service_users([item]) == ["a::local"]
    item.markers = ["services"]
    assert support.unmarked_service_users([item]) == []


def test_every_server_fixture_is_a_registered_fixture(request):
    for name in support.SERVICE_FIXTURES:
        assert request._fixturemanager.getfixturedefs(name, request.node), name


def test_need_fails_an_unmarked_test_even_when_the_server_is_there(monkeypatch):
    # This very test is unmarked: need() must refuse it whatever the reachability.
    with pytest.raises(pytest.fail.Exception, match="not marked @pytest.mark.services"):
        support.need(True, "a server")


@pytest.mark.services
def test_need_lets_a_marked_test_through():
    assert support.need(True, "a server") is None
