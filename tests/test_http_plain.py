"""The plain GET path of listen.http (http.client, for cheap conditional GETs) answers
exactly as the httpx path would, and hands httpx what it does not handle itself."""

from __future__ import annotations

import zlib

import pytest

from listen.errors import FeedError
from listen.http import Http
from tests.replay import Reply

BODY = b"<rss><channel><title>plain</title></channel></rss>" * 50


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize("encoded", [zlib.compress(BODY), _raw_deflate(BODY)], ids=["zlib", "raw"])
def test_deflate_either_way_is_decoded(server, encoded):
    server.add("/f", Reply(200, encoded, {"Content-Encoding": "deflate"}))
    with Http(sleep=lambda s: None) as http:
        assert http.get(server.url + "/f", feed="blog").content == BODY


def test_a_conditional_get_sends_its_validators_and_reuses_the_connection(server):
    server.add("/f", Reply(200, BODY, {"ETag": '"v1"'}), Reply(304), Reply(304))
    with Http(sleep=lambda s: None) as http:
        first = http.get(server.url + "/f", feed="blog")
        again = [http.get(server.url + "/f", feed="blog", etag=first.headers["etag"]) for _ in range(2)]
        assert all(r.not_modified and r.content == b"" for r in again)
        assert len(http._conns) == 1  # one kept-alive connection for this thread, not one per request
    assert [h.headers.get("if-none-match") for h in server.hits("/f")] == [None, '"v1"', '"v1"']


def test_a_redirect_is_followed_by_httpx_and_remembered(server):
    server.always("/old", Reply(301, "", {"Location": "/new"}))
    server.always("/new", Reply(200, BODY))
    with Http(sleep=lambda s: None) as http:
        r = http.get(server.url + "/old", feed="blog")
        assert r.content == BODY and r.url.endswith("/new")
        asked = len(server.hits("/old"))
        http.get(server.url + "/old", feed="blog")
    assert len(server.hits("/old")) == asked + 1  # the second time straight to httpx


def test_a_deflate_bomb_is_cut_off_at_the_cap(server):
    server.add("/f", Reply(200, zlib.compress(b"\0" * 5_000_000), {"Content-Encoding": "deflate"}))
    with Http(sleep=lambda s: None, max_size=100_000) as http, pytest.raises(FeedError, match="cap"):
        http.get(server.url + "/f", feed="blog")


def test_a_thread_keeps_sockets_to_its_last_two_hosts_only(server):
    from listen.http import KEPT
    from tests.replay import ReplayServer

    others = [ReplayServer().start() for _ in range(2)]
    try:
        for s in (server, *others):
            s.always("/f", Reply(200, BODY))
        with Http(sleep=lambda s: None) as http:
            for s in (server, *others, server):
                assert http.get(s.url + "/f", feed="blog").content == BODY
            assert sum(c.sock is not None for c in http._conns) == KEPT == 2
    finally:
        for s in others:
            s.stop()
