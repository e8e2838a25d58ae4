"""16 concurrent gradio_client users x 10 questions against one app: no errors, every
quote verified, the same answers as one user asking alone; p50/p95 latency reported."""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.service import Services

from .child import install_network_guard
from .conftest import assert_quotes_verified, citation_keys, free_port, statement_texts

CLIENTS = 16
QUESTIONS = [
    "What is the Quds Force?",
    "Where and when was Soleimani killed?",
    "How many US soldiers had died in Iraq according to the SEP?",
    "What office was Naomi Craine running for?",
    "What do the statements say about the Democratic Party?",
    "Who was Abu Mahdi al-Muhandis?",
    "What slogan have protesters in Iraq been chanting, according to the SWP?",
    "What is the capital of France?",
    "Compare what the statements report about people killed.",
    "What is the main demand at the heart of the SEP's election platform?",
]


@pytest.fixture(scope="module")
def app_url(bundled: Services) -> Iterator[str]:
    """The real app (``ui.web.app.build_app``) on a free loopback port, in this process."""
    web = pytest.importorskip("ui.web.app", reason="ui/web/app.py is not written yet")
    demo = web.build_app(bundled, bundled.settings)
    port = free_port()
    if hasattr(web, "serve"):
        url = web.serve(demo, bundled.settings, "127.0.0.1", port, quiet=True)
    else:
        demo.queue(default_concurrency_limit=bundled.settings.ui_concurrency)
        _, url, _ = demo.launch(
            server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True
        )
    try:
        yield url
    finally:
        demo.close()


@pytest.mark.slow
def test_sixteen_clients_ten_questions_each(
    app_url: str, bundled: Services, artifacts: Path, tmp_path: Path
) -> None:
    from gradio_client import Client

    texts = statement_texts(bundled.store)
    expected = {q: citation_keys(bundled.answerer.answer(q)) for q in QUESTIONS}
    latencies: list[float] = []
    errors: list[str] = []
    results: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()
    start_together = threading.Barrier(CLIENTS)
    net_log = tmp_path / "net.log"
    undo_guard = install_network_guard(str(net_log))

    def user(index: int) -> None:
        try:
            client = Client(app_url, verbose=False)
        except Exception as exc:
            with lock:
                errors.append(f"client {index}: {type(exc).__name__}: {exc}")
            start_together.abort()
            return
        start_together.wait(timeout=120)
        for i in range(len(QUESTIONS)):
            question = QUESTIONS[(index + i) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                result = client.predict(question, api_name="/ask")
            except Exception as exc:
                with lock:
                    errors.append(f"client {index} {question!r}: {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                results.append((question, result))

    wall = time.perf_counter()
    try:
        threads = [threading.Thread(target=user, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
    finally:
        undo_guard()
    wall = time.perf_counter() - wall

    assert errors == []
    assert len(results) == CLIENTS * len(QUESTIONS)
    for question, result in results:
        assert isinstance(result, dict), result
        assert result["question"] == question
        assert_quotes_verified(result, texts)
        assert citation_keys(result) == expected[question], question
    assert not net_log.exists(), net_log.read_text()

    latencies.sort()
    figures = {
        "clients": CLIENTS,
        "questions_per_client": len(QUESTIONS),
        "requests": len(latencies),
        "errors": len(errors),
        "ui_concurrency": bundled.settings.ui_concurrency,
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3),
        "max_s": round(latencies[-1], 3),
        "wall_s": round(wall, 1),
        "throughput_per_s": round(len(latencies) / wall, 2),
    }
    (artifacts / "load_test.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nload test: {json.dumps(figures)}")
