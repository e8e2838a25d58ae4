"""A local web site on 127.0.0.1 for the URL tests: saved pages, a redirect, a 404, a huge
page, a slow page, robots.txt rules, and a page whose text can be changed between fetches."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "web"
ROBOTS = "User-agent: *\nDisallow: /private/\n\nUser-agent: OtherBot\nDisallow: /\n"
HUGE_MB = 8
SLOW_SECONDS = 30  # the slow page would take this long; the tests' limit is far shorter


@dataclass
class Site:
    """What the site serves; ``pages`` may be changed by a test while it runs."""

    base: str = ""
    pages: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path -> (type, body)
    redirects: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)  # path -> an error status
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


def _html(title: str, body: str) -> bytes:
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/about'>About us</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        f"<footer>© 2024 Example Party. All rights reserved.</footer></body></html>"
    ).encode()


def default_site() -> Site:
    site = Site()
    for name in ("news_article.html", "press_release.html"):
        page = (PAGES / name).read_bytes()
        site.pages["/" + name.removesuffix(".html")] = ("text/html; charset=utf-8", page)
    site.pages["/robots.txt"] = ("text/plain", ROBOTS.encode())
    site.pages["/private/memo"] = ("text/html", _html("Memo", "<p>Not for robots.</p>"))
    site.pages["/changing"] = (
        "text/html",
        _html("Changing", "<p>We will build ten thousand homes by 2030.</p>"),
    )
    site.pages["/image"] = ("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    site.redirects["/old-news"] = "/news_article"
    site.redirects["/to-private"] = "/private/memo"
    site.redirects["/loop"] = "/loop"
    site.redirects["/to-file"] = "file:///etc/passwd"
    return site


class _Handler(BaseHTTPRequestHandler):
    site: Site
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.site.requests.append(path)
        if path in self.site.statuses:
            self.send_response(self.site.statuses[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path in self.site.redirects:
            self.send_response(301)
            self.send_header("Location", self.site.redirects[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/huge":
            self._huge()
        elif path == "/slow":
            self._slow()
        elif path in self.site.pages:
            kind, body = self.site.pages[path]
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            body = b"<html><body><h1>Not found</h1></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def _huge(self) -> None:
        """Megabytes of paragraphs, sent without a Content-Length (so only reading counts)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"<p>" + b"All work and no play makes a dull statement. " * 200 + b"</p>\n"
        try:
            self.wfile.write(b"<html><body><article>")
            for _ in range(HUGE_MB * 1024 * 1024 // len(chunk) + 1):
                self.wfile.write(chunk)
        except OSError:  # the client stopped reading: as it should
            pass
        self.close_connection = True

    def _slow(self) -> None:
        """Headers at once, then a few bytes a second: only a deadline on the whole fetch
        stops it (no single read waits long)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(b"<html><body><article><p>")
            for _ in range(SLOW_SECONDS * 4):
                self.wfile.write(b"slow ")
                self.wfile.flush()
                time.sleep(0.25)
        except OSError:
            pass
        self.close_connection = True


@contextmanager
def serve(site: Site, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> Iterator[Site]:
    """Serve ``site`` on a free port of ``host`` (https with ``tls``)."""
    handler = type("Handler", (_Handler,), {"site": site})
    server = ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    site.base = f"{scheme}://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def self_signed(folder: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A certificate for ``name``: (the server's context, a client context trusting it)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{name}.pem", folder / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client
