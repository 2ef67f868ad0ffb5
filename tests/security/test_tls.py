"""In-transit encryption (REDIS_TLS, rediss://) against a real redis-server with TLS and certificates of our own.

The handlers must verify the server: its certificate chain against REDIS_TLS_CA_CERTS and its host name.
A server that fails either check, or a client that speaks plain text to a TLS port, is "Redis unavailable":
a fast 503, never a hang, and a log line without the password.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.security.helpers import FAST_SECONDS, Output, log_one_action, read_actions
from tests.support import NEVER_LOGGED, REQUIRE_REDIS_SERVER, RedisServer, free_port, redis_server_binary, unavailable

pytestmark = pytest.mark.redis_server

# ElastiCache with in-transit encryption usually also has an AUTH token; the tests use one so that they
# can show it never reaches a log line.
PASSWORD = f"{NEVER_LOGGED}-tls-auth-token"


@dataclass(frozen=True)
class Certificates:
    ca: Path  # the CA that signed both server certificates
    untrusted_ca: Path  # a CA that signed nothing the servers present
    server: tuple[Path, Path]  # certificate and key for IP:127.0.0.1, DNS:localhost
    wrong_name: tuple[Path, Path]  # certificate and key, signed by `ca`, for another host name only


def openssl(directory: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    # EC keys: generating them takes milliseconds, where RSA takes a noticeable part of a second.
    openssl(directory, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key")
    # Python 3.13 verifies strictly (VERIFY_X509_STRICT): a CA certificate needs its key usage.
    openssl(directory, "req", "-x509", "-new", "-key", f"{name}.key", "-subj", f"/CN={name}", "-days", "2",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-out", f"{name}.pem")  # fmt: skip
    return directory / f"{name}.pem", directory / f"{name}.key"


def make_server_certificate(directory: Path, name: str, ca: tuple[Path, Path], alt_names: str) -> tuple[Path, Path]:
    extensions = [
        f"subjectAltName={alt_names}",
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=serverAuth",
        "authorityKeyIdentifier=keyid",  # also required by strict verification
    ]
    (directory / f"{name}.ext").write_text("\n".join(extensions) + "\n")
    openssl(directory, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key")
    openssl(directory, "req", "-new", "-key", f"{name}.key", "-subj", f"/CN={name}", "-out", f"{name}.csr")
    openssl(directory, "x509", "-req", "-in", f"{name}.csr", "-CA", str(ca[0]), "-CAkey", str(ca[1]),
            "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem")  # fmt: skip
    return directory / f"{name}.pem", directory / f"{name}.key"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    redis_server_binary()  # skip (or fail under CI) before doing any work when there is no redis-server
    if shutil.which("openssl") is None:
        unavailable("openssl is not installed; the TLS tests make their certificates with it", REQUIRE_REDIS_SERVER)
    directory = tmp_path_factory.mktemp("pki")
    ca = make_ca(directory, "actionlog-test-ca")
    untrusted_ca, _ = make_ca(directory, "untrusted-ca")
    return Certificates(
        ca=ca[0],
        untrusted_ca=untrusted_ca,
        server=make_server_certificate(directory, "server", ca, "IP:127.0.0.1,DNS:localhost"),
        wrong_name=make_server_certificate(directory, "elsewhere", ca, "DNS:redis.elsewhere.example"),
    )


@dataclass(frozen=True)
class TlsServer:
    server: RedisServer
    tls_port: int


def start_tls_server(certificates: Certificates, certificate: tuple[Path, Path]) -> TlsServer:
    """A redis-server with a TLS port and a password.

    It keeps a plain-text port too, on loopback, for the test's own readiness check and administration;
    the handlers under test only ever talk to the TLS port.
    """
    tls_port = free_port()
    tls = ("--tls-port", str(tls_port), "--tls-cert-file", str(certificate[0]), "--tls-key-file", str(certificate[1]))
    tls += ("--tls-ca-cert-file", str(certificates.ca), "--tls-auth-clients", "no")
    server = RedisServer(extra_args=tls).start()
    server.client().config_set("requirepass", PASSWORD)
    return TlsServer(server=server, tls_port=tls_port)


@pytest.fixture(scope="module")
def tls_server(certificates: Certificates) -> Iterator[TlsServer]:
    started = start_tls_server(certificates, certificates.server)
    yield started
    started.server.stop()


@pytest.fixture(scope="module")
def wrong_name_server(certificates: Certificates) -> Iterator[TlsServer]:
    started = start_tls_server(certificates, certificates.wrong_name)
    yield started
    started.server.stop()


def tls_settings(port: int, ca: Path) -> dict[str, str]:
    return {
        "REDIS_TLS": "true",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(port),
        "REDIS_TLS_CA_CERTS": str(ca),
        "REDIS_PASSWORD": PASSWORD,
    }


def assert_unavailable_without_secrets(output: Output, response: dict[str, Any], seconds: float) -> None:
    assert (response["statusCode"], response["headers"]["Retry-After"]) == (503, "1")
    assert seconds < FAST_SECONDS
    assert output.failure()["cause"] == "ConnectionError"  # redis-py's; the TLS reason is only in its chain
    assert PASSWORD not in output.everything


def answers_ping(port: int, ca: Path, *, check_hostname: bool) -> bool:
    """Whether a client of the test's own, verifying as told, gets through: the server itself is fine."""
    options = {"ssl": True, "ssl_ca_certs": str(ca), "ssl_check_hostname": check_hostname}
    with redis.Redis(host="127.0.0.1", port=port, password=PASSWORD, socket_timeout=2, **options) as client:
        return bool(client.ping())


@pytest.mark.parametrize("url", [False, True], ids=["REDIS_TLS with host and port", "rediss URL"])
def test_given_the_servers_ca_when_an_action_is_logged_over_tls_then_it_reads_back(
    tls_server: TlsServer,
    certificates: Certificates,
    configure: Callable[..., None],
    output: Callable[[], Output],
    url: bool,
) -> None:
    settings = tls_settings(tls_server.tls_port, certificates.ca)
    if url:
        # "localhost" rather than the IP: the DNS name in the certificate is checked as well.
        settings = {**settings, "REDIS_URL": f"rediss://localhost:{tls_server.tls_port}/0"}
        del settings["REDIS_TLS"], settings["REDIS_HOST"], settings["REDIS_PORT"]
    configure(**settings)
    with tls_server.server.client(password=PASSWORD) as admin:
        admin.flushall()

    logged, _ = log_one_action()
    read = read_actions()

    assert logged["statusCode"] == 201
    assert read["statusCode"] == 200
    assert [entry["id"] for entry in read["json"]["actions"]] == [logged["json"]["entry"]["id"]]
    assert not read["json"].get("degraded")
    assert output().record("Redis connection initialised")["tls"] is True


def test_given_an_untrusted_ca_when_an_action_is_logged_then_the_answer_is_a_fast_503(
    tls_server: TlsServer,
    certificates: Certificates,
    configure: Callable[..., None],
    output: Callable[[], Output],
) -> None:
    configure(**tls_settings(tls_server.tls_port, certificates.untrusted_ca))

    response, seconds = log_one_action()

    assert_unavailable_without_secrets(output(), response, seconds)
    assert answers_ping(tls_server.tls_port, certificates.ca, check_hostname=True)


def test_given_a_certificate_for_another_host_name_when_an_action_is_logged_then_the_answer_is_a_fast_503(
    wrong_name_server: TlsServer,
    certificates: Certificates,
    configure: Callable[..., None],
    output: Callable[[], Output],
) -> None:
    configure(**tls_settings(wrong_name_server.tls_port, certificates.ca))

    response, seconds = log_one_action()

    assert_unavailable_without_secrets(output(), response, seconds)
    # The chain is valid (the trusted CA signed it): only the host name check refuses this server.
    assert answers_ping(wrong_name_server.tls_port, certificates.ca, check_hostname=False)


def test_given_tls_off_when_the_tls_port_is_used_then_the_answer_is_a_fast_503_not_a_hang(
    tls_server: TlsServer, configure: Callable[..., None], output: Callable[[], Output]
) -> None:
    configure(REDIS_HOST="127.0.0.1", REDIS_PORT=str(tls_server.tls_port), REDIS_PASSWORD=PASSWORD)

    response, seconds = log_one_action()

    assert_unavailable_without_secrets(output(), response, seconds)


@pytest.mark.parametrize("case", ["untrusted CA", "another host name"])
def test_given_a_server_that_fails_verification_when_an_action_is_logged_then_the_log_names_the_certificate(
    tls_server: TlsServer,
    wrong_name_server: TlsServer,
    certificates: Certificates,
    configure: Callable[..., None],
    output: Callable[[], Output],
    case: str,
) -> None:
    if case == "untrusted CA":
        configure(**tls_settings(tls_server.tls_port, certificates.untrusted_ca))
    else:
        configure(**tls_settings(wrong_name_server.tls_port, certificates.ca))

    log_one_action()

    assert output().failure().get("rootCause") == "SSLCertVerificationError"
