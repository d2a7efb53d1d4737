"""Channel calls and image downloads never go inward: the API address must be the channel's
own host (or the sandbox where it runs), and every connection is checked when it is opened.

No test here sends a packet anywhere but loopback: names are resolved by a stand-in, and the
real connect is replaced by one that refuses anything that is not loopback.
"""

import http.server
import ipaddress
import socket
import threading

import httpcore
import httpx
import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from channels.adapters import adapter_for
from channels.adapters.base import ADDRESS_REFUSED, AdapterError, HttpClient
from channels.adapters.net import GuardedTransport
from channels.adapters.tiktok_shop import ListingProblem, TikTokShopAdapter
from channels.endpoints import api_base_url_problem
from channels.tests.factories import make_account

INWARD = [
    "https://169.254.169.254/latest/meta-data",
    "https://127.0.0.1:5432",
    "https://10.0.0.1",
    "https://[::1]:8080",
    "https://192.168.1.1/v5",
    "https://graph.facebook.com.evil.example",
    "https://evil.example/graph.facebook.com",
    "http://graph.facebook.com/v25.0",
    "https://user:secret@graph.facebook.com/v25.0",
    "https://graph.facebook.com:8443/v25.0",
]


@pytest.fixture
def no_outside_traffic(monkeypatch):
    """Names resolve through a table; the socket layer connects to loopback only."""
    table = {
        "inward.example": "10.0.0.7",
        "metadata.example": "169.254.169.254",
        "mixed.example": ["93.184.216.34", "10.0.0.8"],
        "localhost": "127.0.0.1",
    }
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            addresses = table[host] if isinstance(table[host], list) else [table[host]]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]
        if host.replace(".", "").isdigit() or ":" in host:
            return real_getaddrinfo(host, port, *args, **kwargs)
        raise socket.gaierror("unknown name")

    connected = []
    real_connect = httpcore.SyncBackend.connect_tcp

    def connect_tcp(self, host, port, *args, **kwargs):
        connected.append(host)
        if not ipaddress.ip_address(host).is_loopback:
            raise AssertionError(f"a connection to {host} was attempted")
        return real_connect(self, host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect_tcp)
    return connected


@pytest.mark.parametrize("url", INWARD)
def test_an_api_address_other_than_the_channels_own_is_refused_when_saved(in_shop_a, url):
    with pytest.raises(ValidationError) as exc:
        make_account(in_shop_a, "meta", api_base_url=url)
    message = exc.value.message_dict["api_base_url"][0]
    assert "graph.facebook.com" in message or "without user name" in message


def test_the_channels_own_host_and_the_local_sandbox_are_accepted(in_shop_a):
    assert api_base_url_problem("meta", "https://graph.facebook.com/v25.0") == ""
    assert api_base_url_problem("pinterest", "https://api.pinterest.com") == ""
    assert api_base_url_problem("tiktok_shop", "https://open-api.tiktokglobalshop.com") == ""
    assert api_base_url_problem("meta", "http://127.0.0.1:8000/sandbox/meta") == ""
    # Loopback outside the sandbox's path is a port scan, not a sandbox.
    assert api_base_url_problem("meta", "http://127.0.0.1:5432/") != ""
    assert api_base_url_problem("snapchat", "https://graph.facebook.com") != ""  # feed channels have no API


def test_the_sandbox_address_is_refused_where_the_sandbox_is_off(in_shop_a):
    account = make_account(in_shop_a, "meta", api_base_url="http://127.0.0.1:8000/sandbox/meta")
    with override_settings(SANDBOX_ENABLED=False):
        assert api_base_url_problem("meta", account.api_base_url) != ""
        # Checked at use too, not only when saved: the stored address no longer goes out.
        with pytest.raises(AdapterError):
            adapter_for(account)


@pytest.mark.parametrize("host", ["inward.example", "metadata.example", "mixed.example", "10.1.2.3", "169.254.169.254"])
def test_a_connection_inward_is_refused_when_it_opens_and_never_retried(no_outside_traffic, host):
    client = HttpClient(f"http://{host}", max_attempts=5, sleep=lambda s: None)
    with pytest.raises(AdapterError) as exc:
        client.request("GET", "/anything")
    assert str(exc.value) == ADDRESS_REFUSED
    assert client.attempts_log == []  # refused before any attempt, so nothing to retry
    assert no_outside_traffic == []


def test_loopback_only_where_the_sandbox_runs(no_outside_traffic, live_server):
    url = f"{live_server.url}/healthz"
    with httpx.Client(transport=GuardedTransport(allow_loopback=False)) as client, pytest.raises(httpx.ConnectError):
        client.get(url)
    with httpx.Client(transport=GuardedTransport(allow_loopback=True)) as client:
        assert client.get(url).status_code == 200


def test_errors_do_not_tell_an_open_port_from_a_closed_one(no_outside_traffic):
    # A closed loopback port and a server that hangs up: the merchant reads the same words.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    closed_port = listener.getsockname()[1]
    listener.close()
    client = HttpClient(f"http://127.0.0.1:{closed_port}", max_attempts=2, sleep=lambda s: None,
                        transport=GuardedTransport(allow_loopback=True))  # fmt: skip
    with pytest.raises(AdapterError) as closed:
        client.request("GET", "/")
    assert "no answer" in str(closed.value)
    assert "Connect" not in str(closed.value) and "Refused" not in str(closed.value)


class _Redirect(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", "http://inward.example/secret.png")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_an_image_link_that_redirects_inward_is_refused(no_outside_traffic, settings):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        adapter = TikTokShopAdapter(base_url="https://open-api.tiktokglobalshop.com", credentials={})
        with pytest.raises(ListingProblem) as exc:
            adapter._download(f"http://127.0.0.1:{server.server_port}/picture.png")
    finally:
        server.shutdown()
    assert "could not be downloaded" in str(exc.value)
    assert no_outside_traffic == ["127.0.0.1"]  # the redirect's target was never connected to


def test_every_outbound_client_shares_one_verifying_tls_context():
    import ssl

    from channels.adapters.net import GuardedTransport, verifying_ssl_context

    context = verifying_ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    first, second = GuardedTransport(), GuardedTransport(allow_loopback=True)
    assert first._pool._ssl_context is context and second._pool._ssl_context is context
