"""The panel registry: its documented example works as written, and keys stay unique."""
import re
import textwrap

import pytest

from datasources.admin import panels


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(panels, "PANELS", dict(panels.PANELS))
    return panels


def docstring_example() -> str:
    block = re.search(r"::\n\n((?:    .*\n|\n)+)", panels.__doc__).group(1)
    return textwrap.dedent(block)


def test_the_docstring_example_registers_a_panel(registry):
    namespace = {}
    exec(docstring_example(), namespace)  # noqa: S102 - our own docstring
    panel = registry.PANELS["notes"]
    assert type(panel) is namespace["NotesPanel"]
    assert panel.template_name() == "admin/datasources/panels/notes.html"
    assert panel.context(None, type("Source", (), {"description": "read me"})()) == {"notes": "read me"}


def test_a_taken_key_is_refused(registry):
    class Clash(panels.Panel):
        key = "connection"

    with pytest.raises(ValueError, match="unique key"):
        registry.register(Clash)


def test_built_in_templates_follow_the_key():
    assert panels.PANELS["health-history"].template_name() == "admin/datasources/panels/health_history.html"
