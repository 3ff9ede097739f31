"""Read-only panels on a data source's change page: a small registry any module can add to.

A panel is a class with:

- ``key``: a unique slug (also its HTML id, ``panel-<key>``, and its fragment URL);
- ``title``: the heading shown;
- ``order``: panels show in ascending order (built-ins use 10, 15, 20, 25, 30; leave gaps);
- ``template``: the template that renders it; by default ``admin/datasources/panels/<key>.html``
  with the key's hyphens as underscores. It gets ``panel``, ``source``, ``request``,
  ``can_write`` (may this user act on the source: show action buttons only then) and
  everything ``context`` returns;
- ``context(self, request, source) -> dict``: the template's data. Keep it to a few queries
  and scope nothing yourself: the admin has already checked that ``request.user`` may see
  ``source``;
- optionally ``refresh_seconds(self, request, source) -> int | None``: while it returns a
  number, the page reloads just this panel that often (e.g. while a job runs), and reloads the
  other panels once when it stops;
- optionally ``is_visible(self, request, source) -> bool`` (default True).

Register it with the decorator, in a module imported by ``datasources.admin``::

    from datasources.admin.panels import Panel, register

    @register
    class NotesPanel(Panel):
        key, title, order = "notes", "Notes", 40  # renders admin/datasources/panels/notes.html

        def context(self, request, source):
            return {"notes": source.description}

The change-form template renders every visible panel (``render_panels``); each is also served
alone at ``/admin/datasources/datasource/<id>/panels/<key>/`` for the refresh above. Panels
only read: a panel that offers an action posts a form to a view of its own.
"""
from django.template.loader import render_to_string

PANELS: dict[str, "Panel"] = {}


class Panel:
    key = ""
    title = ""
    order = 100
    template = ""

    def template_name(self) -> str:
        return self.template or f"admin/datasources/panels/{self.key.replace('-', '_')}.html"

    def context(self, request, source) -> dict:
        return {}

    def refresh_seconds(self, request, source) -> int | None:
        return None

    def is_visible(self, request, source) -> bool:
        return True

    def render(self, request, source, *, can_write=False) -> str:
        context = {"panel": self, "source": source, "request": request, "can_write": can_write,
                   "refresh_seconds": self.refresh_seconds(request, source)}
        context.update(self.context(request, source))
        return render_to_string(self.template_name(), context, request=request)


def register(panel_class: type[Panel]) -> type[Panel]:
    """Add a panel (a class decorator); a second panel with the same key is an error."""
    if not panel_class.key or panel_class.key in PANELS:
        raise ValueError(f"A panel needs a unique key; {panel_class.key!r} is missing or taken.")
    PANELS[panel_class.key] = panel_class()
    return panel_class


def visible_panels(request, source) -> list[Panel]:
    panels = sorted(PANELS.values(), key=lambda p: (p.order, p.key))
    return [p for p in panels if p.is_visible(request, source)]


def render_panels(request, source, *, can_write=False) -> list[dict]:
    """Each visible panel as {"key", "title", "html"} for the change-form template."""
    return [
        {"key": p.key, "title": p.title, "html": p.render(request, source, can_write=can_write)}
        for p in visible_panels(request, source)
    ]
