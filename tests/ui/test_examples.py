"""The example questions under the chat follow the store (ui/web/examples.py)."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import BUNDLED_CORPUS, Ingestor
from rag.models import StatementMeta
from rag.service import Services
from ui.web.examples import BUNDLED_EXAMPLES, Examples

RIDER = [
    "The cycling club demands protected bicycle lanes on every avenue.\n\n"
    "Painted bicycle lanes are not enough: parked cars block them every day.\n",
    "Bicycle parking belongs at every station.\n\nSafe bicycle routes bring more riders.\n",
]
BAKER = (
    "The bakers demand lower taxes on flour.\n\n"
    "The price of flour doubled; cheap flour keeps bread cheap.\n"
)


def test_examples_are_made_from_the_users_statements(services: Services, tmp_path: Path) -> None:
    examples = Examples(services)
    assert examples.questions() == []  # nothing to ask about: none shown
    ingestor = Ingestor(services.settings, services.store, services.embedder)
    ingestor.run([BUNDLED_CORPUS])
    services.catalog.invalidate()
    assert examples.questions() == BUNDLED_EXAMPLES
    for i, text in enumerate(RIDER):
        (tmp_path / f"rider{i}.txt").write_text(text)
        ingestor.run([tmp_path / f"rider{i}.txt"], StatementMeta(author="Ann Rider"))
    (tmp_path / "baker.txt").write_text(BAKER)
    ingestor.run([tmp_path / "baker.txt"], StatementMeta(author="Bob Baker"))
    services.catalog.invalidate()
    made = examples.questions()
    assert made[:3] == [
        "What does Ann Rider say about bicycle?",
        "How do Ann Rider and Bob Baker differ on bicycle?",
        "What does Bob Baker say about flour?",
    ]
    assert made[3:] == BUNDLED_EXAMPLES[:1]  # the bundled statements are still there
    for question in made[:3]:
        assert services.answerer.answer(question).citations  # each one is answered
