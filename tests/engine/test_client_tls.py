"""The engine over TLS, as DOCKER_HOST=tcp://... with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH
say it (the docker CLI's own variables): a whole run, attach included, through a TLS
front with client certificates, in front of this machine's engine socket."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from runner import Sandbox, Verdict
from runner.docker.connection import engine_host
from runner.errors import EngineUnavailable


def _pair(name: str, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None = None, *, ca: bool = False,
          ip: str | None = None) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256()), key


def _write(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None) -> None:
    (folder / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        (folder / f"{stem.replace('cert', 'key')}.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


class TlsFront:
    """127.0.0.1, a free port: TLS with a client certificate required, each connection
    passed through to the engine's unix socket."""

    def __init__(self, folder: Path, engine_socket: str) -> None:
        ca_cert, ca_key = _pair("test CA", ca=True)
        ca = (ca_cert.subject, ca_key)
        server_cert, server_key = _pair("engine", ca, ip="127.0.0.1")
        client_cert, client_key = _pair("client", ca)
        _write(folder, "ca", ca_cert)
        _write(folder, "cert", client_cert, client_key)
        server_dir = folder / "server"
        server_dir.mkdir()
        _write(server_dir, "cert", server_cert, server_key)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(server_dir / "cert.pem", server_dir / "key.pem")
        self.context.load_verify_locations(folder / "ca.pem")
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.engine_socket = engine_socket
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.refused = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                plain, _ = self.listener.accept()
            except OSError:
                return      # closed
            threading.Thread(target=self._serve, args=(plain,), daemon=True).start()

    def _serve(self, plain: socket.socket) -> None:
        try:
            outside = self.context.wrap_socket(plain, server_side=True)
        except (ssl.SSLError, OSError):
            self.refused += 1
            plain.close()
            return
        inside = socket.socket(socket.AF_UNIX)
        inside.connect(self.engine_socket)
        threading.Thread(target=_pump, args=(inside, outside), daemon=True).start()
        _pump(outside, inside)

    def close(self) -> None:
        self.listener.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


@pytest.fixture
def tls_front(tmp_path):
    host = engine_host()
    assert host.startswith("unix://"), f"this test puts TLS in front of a unix socket, not {host}"
    front = TlsFront(tmp_path, host.removeprefix("unix://"))
    yield front
    front.close()


def test_a_whole_run_goes_through_an_engine_over_tls(tls_front, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{tls_front.port}")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path))
    with Sandbox() as box:
        result = box.run("print(input()[::-1])", "python", stdin="over tls\n")
        assert result.verdict is Verdict.OK and result.output == "slt revo\n", result
        assert box.wait_for_cleanup(30)
    assert tls_front.refused == 0


def test_without_the_client_certificate_the_engine_is_not_reached(tls_front, tmp_path, monkeypatch):
    (tmp_path / "cert.pem").unlink()
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{tls_front.port}")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path))
    with pytest.raises(EngineUnavailable) as error:
        Sandbox().run("print(1)", "python")
    assert f"tcp://127.0.0.1:{tls_front.port}" in str(error.value)
