"""Stop for a running answer, without cancelling Gradio's event.

Cancelling the event (Gradio's ``cancels=``) stops pulling the answer's generator but not
the step it is in: an answer that was being saved was saved anyway, and a cancel that
lands between steps left error badges on the page. Instead each question gets a token,
made in the page when it is sent (``events.SEND_JS``); Stop marks the token stopped, and
the answering generator checks it between steps and before it saves. ``finish`` and
``stop`` decide under one lock, so a run is either saved or stopped, never both; a Stop
that arrives before its run has started stops it as it starts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Literal

State = Literal["running", "stopped", "finished"]
REMEMBERED = 4096  # tokens kept (most recent), so a late Stop still finds its run


class Runs:
    """The state of each question's run, by the token the page gave it."""

    def __init__(self, remembered: int = REMEMBERED) -> None:
        self._runs: OrderedDict[str, State] = OrderedDict()
        self._lock = threading.Lock()
        self._remembered = remembered

    def _set(self, token: str, state: State) -> None:
        self._runs[token] = state
        self._runs.move_to_end(token)
        while len(self._runs) > self._remembered:
            self._runs.popitem(last=False)

    def _unless_stopped(self, token: str | None, state: State) -> bool:
        if not token:
            return True
        with self._lock:
            if self._runs.get(token) == "stopped":
                return False
            self._set(token, state)
            return True

    def start(self, token: str | None) -> bool:
        """A run begins; False if it was stopped before it started."""
        return self._unless_stopped(token, "running")

    def stopped(self, token: str | None) -> bool:
        """Whether Stop was pressed for this run."""
        if not token:
            return False
        with self._lock:
            return self._runs.get(token) == "stopped"

    def finish(self, token: str | None) -> bool:
        """The run's answer is complete: True if it may be saved and shown (it was not
        stopped); from then on a Stop comes too late."""
        return self._unless_stopped(token, "finished")

    def stop(self, token: str | None) -> State | None:
        """Stop the run: what it was doing when Stop arrived (None: not started yet,
        "finished": too late, its answer stands)."""
        if not token:
            return None
        with self._lock:
            before = self._runs.get(token)
            if before != "finished":
                self._set(token, "stopped")
            return before
