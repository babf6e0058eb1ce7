"""photondrift.outbound: the one outbound client refuses non-public addresses, connects to the
address it checked, follows no redirect and times out."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import urllib3

from photondrift import outbound

REFUSED = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0:8000/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://a@127.0.0.1/",
    "http://user:pw@169.254.169.254@10.0.0.1/",
    "http://224.0.0.1/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_it_refuses_every_non_public_address(settings, url):
    settings.OUTBOUND_ALLOWED_CIDRS = []
    with pytest.raises(outbound.OutboundRefused):
        outbound.resolve(url)


def test_a_refusal_does_not_say_where_a_name_points(settings):
    settings.OUTBOUND_ALLOWED_CIDRS = []
    with pytest.raises(outbound.OutboundRefused) as caught:
        outbound.resolve("http://localhost:8000/")
    assert "127.0.0.1" not in str(caught.value) and "::1" not in str(caught.value)


@pytest.mark.parametrize("url", ["ftp://x/y", "http:///nohost", "http://[::1/", "http://h:99999/", "javascript:x"])
def test_it_refuses_what_is_not_an_http_url(url):
    with pytest.raises(outbound.OutboundRefused):
        outbound.resolve(url)


def test_it_accepts_a_public_address(settings):
    settings.OUTBOUND_ALLOWED_CIDRS = []
    target = outbound.resolve("https://u:p%40ss@93.184.215.14:8443/a?b=1")
    assert (target.address, target.port, target.path) == ("93.184.215.14", 8443, "/a?b=1")
    assert target.authorization == "Basic dTpwQHNz"  # u:p@ss


def test_the_allowed_cidrs_open_only_what_they_name(settings):
    settings.OUTBOUND_ALLOWED_CIDRS = ["127.0.0.1/32"]
    assert outbound.resolve("http://127.0.0.1:9/").address == "127.0.0.1"
    with pytest.raises(outbound.OutboundRefused):
        outbound.resolve("http://127.0.0.2:9/")


def test_a_host_with_one_private_address_among_public_ones_is_refused(settings, monkeypatch):
    settings.OUTBOUND_ALLOWED_CIDRS = []
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 80)) for ip in ("93.184.215.14", "10.0.0.1")]
    monkeypatch.setattr(outbound.socket, "getaddrinfo", lambda *a, **k: answers)
    with pytest.raises(outbound.OutboundRefused):
        outbound.resolve("http://mixed.example.test/")


def test_credentials_are_stripped_for_records():
    assert outbound.without_credentials("https://u:secret@hooks.test/x") == "https://hooks.test/x"
    assert outbound.without_credentials("https://hooks.test/x") == "https://hooks.test/x"


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict] = []
    reply = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append({"path": self.path, "body": body, **dict(self.headers)})
        self.send_response(type(self).reply)
        if type(self).reply in (301, 302, 307):
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Recorder.seen, _Recorder.reply = [], 200
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()


def test_it_connects_to_the_address_it_checked_and_resolves_once(receiver, monkeypatch):
    """A rebinding DNS (127.0.0.1 allowed here, then something else) gets one question only."""
    calls, real = [], socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host != "hooks.example.test":  # the connection's own lookup of a literal address
            return real(host, port, *args, **kwargs)
        calls.append(host)
        ip = "127.0.0.1" if len(calls) == 1 else "169.254.169.254"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(outbound.socket, "getaddrinfo", rebinding)
    status = outbound.post(
        f"http://bob:pw@hooks.example.test:{receiver}/in?x=1", body=b"{}", headers={"X-A": "1"}, timeout_s=5
    )
    assert status == 200 and calls == ["hooks.example.test"]
    (seen,) = _Recorder.seen
    assert seen["Host"] == f"hooks.example.test:{receiver}" and seen["path"] == "/in?x=1"
    assert seen["Authorization"] == "Basic Ym9iOnB3" and seen["X-A"] == "1"


def test_it_follows_no_redirect(receiver):
    _Recorder.reply = 302
    assert outbound.post(f"http://127.0.0.1:{receiver}/", body=b"{}", headers={}, timeout_s=5) == 302
    assert len(_Recorder.seen) == 1


def test_it_times_out_on_a_silent_server():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        with pytest.raises(urllib3.exceptions.ReadTimeoutError):
            outbound.post(f"http://127.0.0.1:{listener.getsockname()[1]}/", body=b"{}", headers={}, timeout_s=0.3)
    finally:
        listener.close()
