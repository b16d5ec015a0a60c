"""Rendered page parts kept per process, keyed by where the school's audit chain stands.

What is kept: the dashboard's body, training coverage, the register's table (per query string), each
school's row of a group dashboard (tracker/groups/dashboard.py) and the item list's content (per member, role
and query string, which with the school's data and the day also decide the year shown; cut round the bulk
form's CSRF token, which is each request's own: tracker/tracking/list_views.py).

Every change to a school's data writes an audit event (the audit tests check each service), so a part
rendered for the same school, audit head, day, member and role is still right. Each worker keeps its own
small LRU; each request reads the head from the database, so workers never serve each other's stale parts.
What the audit chain does not cover (a user renaming themselves, which is not a school's event) shows after
the school's next change. TRACKER_PAGE_CACHE=0 turns it off (the benchmark measures both ways); tests run with
it off unless they ask for it.
"""

import threading
from collections import OrderedDict

from flask import current_app
from markupsafe import Markup

from . import audit

MAX_ENTRIES = 512


class FragmentCache:
    def __init__(self, size=MAX_ENTRIES):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value):
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self):
        with self._lock:
            self._items.clear()


fragments = FragmentCache()


def enabled() -> bool:
    return bool(current_app.config.get("TRACKER_PAGE_CACHE", True))


def school_value(school, key: tuple, make):
    """`make()`'s value (immutable: HTML, or a tuple of HTML parts) for this school and key, made again only
    when the school's data has changed. A value of None is not kept."""
    if not enabled():
        return make()
    full = (school.id, audit.school_stamp(school), school.today(), *key)
    value = fragments.get(full)
    if value is None:
        value = make()
        if value is not None:
            fragments.put(full, value)
    return value


def school_fragment(school, key: tuple, render) -> Markup:
    """`render()`'s HTML for this school and key, made again only when the school's data has changed."""
    return school_value(school, key, lambda: Markup(render()))
