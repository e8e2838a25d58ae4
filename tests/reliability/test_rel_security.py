"""Security defaults: no network at run time in the default configuration."""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag.service import Services
from rag.settings import Settings
from rag.store.chroma import make_client
from ui.web.app import build_app, serve

from .conftest import CHILD, child_env, free_port

# What a user would not have set: the defaults must be offline without any of these.
OFFLINE_SWITCHES = (
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "ANONYMIZED_TELEMETRY",
    "GRADIO_ANALYTICS_ENABLED",
    "HF_HUB_DISABLE_TELEMETRY",
    "DO_NOT_TRACK",
)
_ADDRESS = re.compile(r'sa_family=AF_INET6?, .*?(?:inet_addr\(|inet_pton\(AF_INET6?, )"([^"]+)"')


def _non_loopback(strace_log: str) -> list[str]:
    """connect/sendto/sendmsg calls to an internet address other than loopback."""
    bad = []
    for line in strace_log.splitlines():
        match = _ADDRESS.search(line)
        if not match:
            continue
        address = match.group(1)
        if not (address.startswith("127.") or address in ("::1", "::ffff:127.0.0.1")):
            bad.append(line)
    return bad


@pytest.mark.slow
def test_default_configuration_makes_no_network_calls(tmp_path: Path) -> None:
    """Ingest the bundled statements and answer a question through the library, in a
    child process with nothing but a data directory configured (no offline switches, an
    empty Hugging Face cache). Every name lookup or connection to a non-loopback address
    is recorded by a Python-level guard, and, where strace exists, every connect/sendto
    syscall of the process and its threads (native code included) is recorded too."""
    home = tmp_path / "home"
    net_log = tmp_path / "net.log"
    env = child_env(home, RAG_TEST_NET_LOG=str(net_log), HF_HOME=str(tmp_path / "hf"))
    for name in OFFLINE_SWITCHES:
        env.pop(name, None)
    command = [sys.executable, str(CHILD), "--library-smoke", str(home)]
    trace = tmp_path / "strace.log"
    strace = shutil.which("strace")
    if strace:
        command = [strace, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-e"]
        command += ["signal=none", "-o", str(trace), *[sys.executable, str(CHILD)]]
        command += ["--library-smoke", str(home)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]

    data = json.loads(result.stdout.splitlines()[-1])
    assert data["summary"]["new"] == 2
    assert not data["answer"]["abstained"] and data["answer"]["citations"]
    attempts = net_log.read_text() if net_log.exists() else ""
    assert attempts == "", f"network attempts:\n{attempts}"
    if strace:
        calls = _non_loopback(trace.read_text())
        assert calls == [], "\n".join(calls[:20])


def test_strace_parser_sees_internet_addresses() -> None:
    lines = (
        '1 connect(3, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("1.2.3.4")}'
        ", 16) = -1\n"
        '2 connect(4, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("127.0.0.1")}'
        ", 16) = 0\n"
        "3 connect(5, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = -1\n'
        '4 connect(6, {sa_family=AF_UNIX, sun_path="/run/x.sock"}, 110) = 0\n'
    )
    assert [line[0] for line in _non_loopback(lines)] == ["1", "3"]


def test_chroma_telemetry_is_off(tmp_path: Path) -> None:
    """make_client turns Chroma's product telemetry off, embedded and server alike."""
    client = make_client(Settings(home=tmp_path / "home"))
    assert client.get_settings().anonymized_telemetry is False


# -- the web UI behind RAG_UI_AUTH -------------------------------------------------------

PASSWORD = "correct horse battery"
SECRETS = ("000_750d3f795511808f", "004_82099dca89624f38", "Socialist Workers Party")


@pytest.fixture(scope="module")
def protected_ui(bundled: Services) -> Iterator[str]:
    """The app over the bundled statements with a password."""
    settings = bundled.settings.model_copy(update={"ui_auth": f"alice:{PASSWORD}"})
    demo = build_app(bundled, settings)
    url = serve(demo, settings, port=free_port())
    try:
        yield url.rstrip("/")
    finally:
        demo.close()


def test_login_page_and_config_reveal_no_statements(protected_ui: str) -> None:
    """Statement ids and organizations are filled in on load, for the logged-in page;
    they are in neither the login page nor the page config (before or after login)."""
    with httpx.Client(timeout=30) as anonymous:
        for path in ("/", "/config", "/gradio_api/info"):
            body = anonymous.get(protected_ui + path).text
            assert not [s for s in SECRETS if s in body], path
    with httpx.Client(timeout=30) as user:
        ok = user.post(protected_ui + "/login", data={"username": "alice", "password": PASSWORD})
        assert ok.status_code == 200, ok.text
        config = user.get(protected_ui + "/config")
        assert config.status_code == 200 and "rag-question" in config.text
        assert not [s for s in SECRETS if s in config.text]


def test_password_guessing_is_throttled(
    protected_ui: str, caplog: pytest.LogCaptureFixture
) -> None:
    """300 wrong passwords in a burst: only a handful are even checked."""
    caplog.set_level(logging.WARNING, logger="ui.web.auth")
    started = time.monotonic()
    with httpx.Client(timeout=30) as client:
        codes = {
            client.post(
                protected_ui + "/login", data={"username": "mallory", "password": f"guess{i}"}
            ).status_code
            for i in range(300)
        }
    elapsed = time.monotonic() - started
    assert codes == {400}
    checked = [r for r in caplog.records if r.getMessage().startswith("failed login")]
    refused = [r for r in caplog.records if "locked out" in r.getMessage()]
    # 3 free failures, then one per lockout, each twice as long as the last
    assert len(checked) <= 3 + math.log2(elapsed + 1) + 2, (len(checked), elapsed)
    assert len(refused) >= 300 - len(checked)
