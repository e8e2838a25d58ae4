"""Property tests: any bytes in give a statement or one clear skip line; whatever text
comes out keeps its offsets exact; the text paths stay roughly linear in their input."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk
from ingest.loaders import RawDocument, load_document
from ingest.normalize import CleanText, normalize
from rag.errors import IngestError
from rag.models import StatementMeta
from rag.sentences import MAX_SENTENCE_CHARS, split_sentences

from .test_rel_hostile_inputs import assert_linear

FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Characters that mean something to Markdown, YAML, HTML, the sentence splitter or a terminal.
SPECIAL = "[]()!*_`#>-+=~.?…,;:'\"“”‘’<>/&{}|\\\n\t \x00\x1b\x85\u2028"
hostile_text = st.text(
    alphabet=st.one_of(st.sampled_from(SPECIAL), st.characters(codec="utf-8")), max_size=400
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def assert_clean_invariants(clean: CleanText, max_chars: int = 300) -> None:
    """Paragraph spans tile the text; passages and sentences are exact slices of it."""
    text = clean.text
    assert "\n\n".join(text[s:e] for s, e in clean.paragraphs) == text
    assert not _CONTROL.search(text)
    for p_start, p_end in clean.paragraphs:
        assert text[p_start:p_end].strip() == text[p_start:p_end] != ""
        assert "\n" not in text[p_start:p_end]
    passages = chunk("s", clean, max_chars=max_chars)
    for passage in passages:
        assert text[passage.start : passage.end] == passage.text
        p_start, p_end = clean.paragraphs[passage.paragraph - 1]
        assert p_start <= passage.start < passage.end <= p_end
        assert passage.sentences[0][0] == passage.start
        assert passage.sentences[-1][1] == passage.end
        for s, e in passage.sentences:
            assert passage.start <= s < e <= passage.end
            assert e - s <= MAX_SENTENCE_CHARS
    # every non-space character of the clean text is in exactly one passage
    covered = "".join(p.text for p in passages)
    assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", text)


@FAST
@given(text=hostile_text, markup=st.sampled_from(["markdown", "plain"]))
def test_any_text_normalizes_with_exact_offsets(text: str, markup: str) -> None:
    doc = RawDocument(text=text, meta=StatementMeta(), markup=markup)  # type: ignore[arg-type]
    assert_clean_invariants(normalize(doc))


@FAST
@given(text=hostile_text)
def test_sentence_spans_cover_every_character(text: str) -> None:
    spans = split_sentences(text, max_chars=40)
    for (_, end), (start, _) in pairwise(spans):
        assert end <= start
    for s, e in spans:
        assert 0 <= s < e <= len(text) and e - s <= 40
        assert not text[s].isspace() and not text[e - 1].isspace()
    covered = "".join(text[s:e] for s, e in spans)
    assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", text)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-files")


def _load_and_check(path: Path) -> None:
    """A statement with exact offsets, or an IngestError whose message is one line."""
    try:
        doc = load_document(path)
    except IngestError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        return
    assert_clean_invariants(normalize(doc))


@FAST
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".txt", ".md", ".html", ".htm"]))
def test_any_bytes_are_a_statement_or_one_line(folder: Path, data: bytes, suffix: str) -> None:
    path = folder / f"file{suffix}"
    path.write_bytes(data)
    _load_and_check(path)


@FAST
@given(text=hostile_text, suffix=st.sampled_from([".txt", ".md", ".html"]))
def test_any_text_file_is_a_statement_or_one_line(folder: Path, text: str, suffix: str) -> None:
    path = folder / f"text{suffix}"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    _load_and_check(path)


yaml_value = st.recursive(
    st.one_of(
        st.sampled_from(
            ["&a x", "*a", "!!binary aGk=", "!!python/object:os.system", "~", "[", "{"]
        ),
        st.text(alphabet="abc &*[]{}:,-!|>'\"\n#", max_size=12),
    ),
    lambda inner: st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
    max_leaves=12,
)


@FAST
@given(
    pairs=st.lists(
        st.tuples(st.sampled_from(["title", "date", "author", "org", "url", "x"]), yaml_value),
        max_size=5,
    ),
    suffix=st.sampled_from([".md", ".txt"]),
)
def test_any_front_matter_is_metadata_or_one_line(
    folder: Path, pairs: list[tuple[str, str]], suffix: str
) -> None:
    head = "".join(f"{key}: {value}\n" for key, value in pairs)
    path = folder / f"front{suffix}"
    path.write_text(f"---\n{head}---\nThe statement body. It ends here.\n", encoding="utf-8")
    try:
        doc = load_document(path)
    except IngestError as exc:
        assert "\n" not in str(exc)
        return
    for value in doc.meta.model_dump().values():
        assert value is None or (isinstance(value, str) and len(value) < 10_000)


@settings(max_examples=8, deadline=None)
@given(unit=st.text(alphabet=SPECIAL.replace("\n", "") + "aZ1 ", min_size=1, max_size=4))
def test_text_paths_stay_linear(unit: str) -> None:
    """Any short pattern repeated to 200 KB costs roughly 4x its 50 KB run."""

    def run(text: str) -> None:
        doc = RawDocument(text=text, meta=StatementMeta(), markup="markdown")
        chunk("s", normalize(doc))

    assert_linear(run, unit)
