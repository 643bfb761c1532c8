"""Test doubles for webhook delivery: loopback receivers, a scripted resolver, a TLS receiver."""

import datetime
import ipaddress
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_real_getaddrinfo = socket.getaddrinfo


class Receiver:
    """A real HTTP server on loopback that records what it is sent and answers ``status``.

    ``tls`` (an ``ssl.SSLContext``) makes it HTTPS; ``location`` is sent as a redirect target;
    ``before_reply``, when set, is called after a request is recorded and before it is answered.
    """

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.requests = []
        self.status = 200
        self.location = None
        self.before_reply: Callable[[], None] | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                if receiver.before_reply is not None:
                    receiver.before_reply()
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class RawReceiver:
    """A loopback server that reads one HTTP request per connection, then hands the socket to ``reply``.

    ``reply(sock)`` writes whatever bytes it likes (a trickle, a huge body) and returns how many it
    sent; it must end on its own (bounded loops), and a client that hangs up ends it early
    (``OSError``). ``sent`` holds the count for each connection; ``tls`` makes it HTTPS.
    """

    def __init__(self, reply: Callable[[socket.socket], int], tls: ssl.SSLContext | None = None):
        self.requests: list[bytes] = []
        self.sent: list[int] = []
        receiver = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                sock = self.request
                sock.settimeout(5)  # a test's client that stops reading cannot hold this thread longer
                if tls is not None:
                    sock = tls.wrap_socket(sock, server_side=True)
                request = b""
                while b"\r\n\r\n" not in request and len(request) < 65536:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return
                    request += chunk
                head, _, body = request.partition(b"\r\n\r\n")
                fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
                length = int({k.strip().lower(): v for k, v in fields.items()}.get(b"content-length", 0))
                while len(body) < length:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return
                    body += chunk
                receiver.requests.append(head + b"\r\n\r\n" + body)
                receiver.sent.append(reply(sock))

        class Server(socketserver.ThreadingTCPServer):
            block_on_close = True  # ``stop`` waits for the replies (each bounded) to end, so ``sent`` is complete

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def trickle(data: bytes, *, every: float, head: bytes = b"") -> Callable[[socket.socket], int]:
    """A ``RawReceiver`` reply that sends ``head`` at once, then ``data`` one byte at a time, ``every`` seconds apart.

    Returns (as ``sent``) how many bytes of ``data`` went out.
    """

    def reply(sock: socket.socket) -> int:
        sent = 0
        try:
            sock.sendall(head)
            for byte in data:
                sock.sendall(bytes([byte]))
                sent += 1
                time.sleep(every)
        except OSError:  # the client hung up
            pass
        return sent

    return reply


def huge_reply(*, status: int, body_bytes: int, chunk: bytes = b"x" * 65536) -> Callable[[socket.socket], int]:
    """A ``RawReceiver`` reply announcing and then streaming ``body_bytes`` bytes of body."""

    def reply(sock: socket.socket) -> int:
        head = f"HTTP/1.1 {status} Whatever\r\nContent-Length: {body_bytes}\r\nConnection: close\r\n\r\n"
        sent = 0
        try:
            sock.sendall(head.encode())
            while sent < body_bytes:
                part = chunk[: body_bytes - sent]
                sock.sendall(part)
                sent += len(part)
        except OSError:  # the client hung up (or stopped reading for 5 s)
            pass
        return sent

    return reply


class ScriptedResolver:
    """Stands in for ``socket.getaddrinfo``: answers names from a script, never from the network.

    ``answers`` maps a host name to the answers of its successive lookups (the last one repeats), each
    a list of addresses (all the A and AAAA records of that lookup). IP literals resolve as usual (no
    network either); any other name does not exist.
    """

    def __init__(self, answers: dict[str, list[list[str]]]):
        self.answers = answers
        self.lookups: list[str] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        try:
            ipaddress.ip_address(name)
        except ValueError:
            pass
        else:
            return _real_getaddrinfo(host, port, family, type, proto, flags)
        if name not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        self.lookups.append(name)
        script = self.answers[name]
        addresses = script[min(self.lookups.count(name), len(script)) - 1]
        port = int(port or 0)
        infos = []
        for address in addresses:
            if ipaddress.ip_address(address).version == 6:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port)))
        return infos


def make_ca_and_server_context(tmp_path, *, cert_name: str) -> tuple[str, ssl.SSLContext, list]:
    """A throwaway CA (its PEM path, for ``verify``) and a server context whose certificate names ``cert_name``.

    The third value collects the SNI names the server was sent.
    """
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "obico-api test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cert_name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(cert_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = tmp_path / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    chain_path = tmp_path / "server.pem"
    chain_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain_path)
    sni_names: list = []

    def remember_sni(sock, server_name, ctx):
        sni_names.append(server_name)

    context.sni_callback = remember_sni
    return str(ca_path), context, sni_names
