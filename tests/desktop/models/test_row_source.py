"""The records API's list URL and sort text as the lazy model asks for them."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from desktop.api import ApiClient
from desktop.app import application
from desktop.models.row_source import ApiRowSource, FetchRequest, sort_param


def test_sort_names_id_so_the_reverse_is_the_exact_mirror() -> None:
    assert sort_param(()) == "id"
    assert sort_param((), reverse=True) == "-id"
    assert sort_param((("site", False), ("created_at", True))) == "site,-created_at,id"
    assert sort_param((("site", False), ("created_at", True)), reverse=True) == "-site,created_at,-id"
    assert sort_param((("id", True),)) == "-id"


def test_the_list_url_carries_offset_or_cursor_filter_and_count() -> None:
    application()
    source = ApiRowSource(ApiClient(), "site visits")
    by_offset = urlsplit(source.path(FetchRequest("-site,-id", 'name ~ "a&b"', 400, None, 200, True)))
    assert by_offset.path == "/api/v1/collections/site%20visits/records"
    assert parse_qs(by_offset.query) == {
        "limit": ["200"],
        "sort": ["-site,-id"],
        "filter": ['name ~ "a&b"'],
        "offset": ["400"],
        "count": ["true"],
    }
    by_cursor = parse_qs(urlsplit(source.path(FetchRequest("id", "", 400, "abc", 50))).query)
    assert by_cursor == {"limit": ["50"], "sort": ["id"], "cursor": ["abc"]}
