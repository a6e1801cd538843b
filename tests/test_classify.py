"""The classify stage: shipped model, real OCR, abstention, rules, retraining, model files, CLI."""

from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import replace

import pytest
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.classify.evaluate import evaluate
from aktenarchiv.classify.model import FORMAT_VERSION, get_model, load_model, save_model
from aktenarchiv.classify.stage import (
    archive_model_path,
    classify_document,
    resolve_model_path,
    shipped_model_path,
)
from aktenarchiv.classify.synthetic.corpus import generate_corpus, write_labelled_dir
from aktenarchiv.classify.train import LabelledText, base_corpus, train_from_examples
from aktenarchiv.commands import classify as commands
from aktenarchiv.config import DEFAULT_TAXONOMY, ClassifySettings
from aktenarchiv.errors import ConfigError, ModelError
from aktenarchiv.models import Classification
from typer.testing import CliRunner

from .classify_fixtures import LETTERS, make_archive, ocr_letters, ocr_result

SETTINGS = ClassifySettings()


@pytest.fixture(scope="module")
def shipped():
    """The shipped model, through the process-wide cache the classify stage uses (loaded once per session)."""
    return get_model(shipped_model_path())


@pytest.fixture(scope="module")
def small_model():
    """A quickly trained model (240 generated documents) for tests that write model files."""
    return train_from_examples(base_corpus(240, seed=3), source="test")


def test_shipped_model_knows_the_taxonomy_and_its_metrics(shipped):
    assert set(shipped.labels) == set(DEFAULT_TAXONOMY)
    assert shipped.meta["format_version"] == FORMAT_VERSION
    assert shipped.meta["metrics"]["accuracy_decided"] >= 0.97
    assert shipped_model_path().stat().st_size < 5_000_000


@pytest.mark.slow  # real Tesseract on drawn letters
def test_real_ocr_letters_are_classified_and_fields_found(tmp_path, shipped):
    texts = ocr_letters(tmp_path, LETTERS)
    results = {t: classify_document(ocr_result(text), SETTINGS, model=shipped) for t, text in texts.items()}
    for doc_type, cls in results.items():
        assert cls.doc_type == doc_type, (doc_type, cls, texts[doc_type][:300])
        assert not cls.needs_review and cls.method.startswith("model:")
    assert results["rechnung"].doc_date == "2024-03-05"
    assert [f.value for f in results["rechnung"].fields if f.kind == "iban"] == ["DE89370400440532013000"]
    assert "1428.00 EUR" in [f.value for f in results["rechnung"].fields if f.kind == "amount"]
    assert results["bescheid"].reference == "32-2024-0815"
    assert results["bescheid"].doc_date == "2024-03-05"
    assert results["widerspruch"].reference == "63.2-4711/24"
    assert results["widerspruch"].doc_date == "2024-03-20"
    assert results["protokoll"].doc_date == "2024-03-14"


def test_held_out_targets(shipped):
    docs = generate_corpus(200, seed=21, held_out=True)
    items = [LabelledText(text, t.doc_type, str(i)) for i, (text, t) in enumerate(docs)]
    report = evaluate(shipped, items, settings=SETTINGS, truth={str(i): t.__dict__ for i, (_, t) in enumerate(docs)})
    assert report["abstain_rate"] <= 0.10
    assert report["accuracy_decided"] >= 0.97
    for kind in ("dates", "ibans", "references"):
        assert report["extraction"][kind]["precision"] >= 0.98
    # Speed is measured, not asserted: a timed test fails on a busy machine (the project keeps speed goals
    # out of tests); `akte classify-eval DIR` prints this figure for the < 50 ms goal.
    assert report["ms_per_document"]["mean"] > 0 and report["ms_per_document"]["p95"] > 0


def test_confidence_is_calibrated_enough_to_trust(shipped):
    docs = generate_corpus(200, seed=22, held_out=True)
    probs = shipped.probabilities([text for text, _ in docs])
    confident = [(max(p, key=p.get), t.doc_type) for p, (_, t) in zip(probs, docs) if max(p.values()) >= 0.9]
    assert len(confident) >= 100
    assert sum(g == p for g, p in confident) / len(confident) >= 0.97


def test_unclear_document_goes_to_review_with_a_suggestion(shipped):
    text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. The quick brown fox jumps over the lazy dog."
    cls = classify_document(ocr_result(text), SETTINGS, model=shipped)
    assert cls.needs_review and cls.doc_type is None
    assert cls.confidence < SETTINGS.review_threshold
    assert cls.suggested_type in DEFAULT_TAXONOMY and cls.method.startswith("model:")


def test_threshold_decides_between_filing_and_review(shipped):
    text = generate_corpus(1, seed=4, held_out=True)[0][0]
    never = classify_document(ocr_result(text), replace(SETTINGS, review_threshold=0.0), model=shipped)
    always = classify_document(ocr_result(text), replace(SETTINGS, review_threshold=1.01), model=shipped)
    assert never.doc_type is not None and not never.needs_review
    assert always.doc_type is None and always.needs_review and always.suggested_type == never.doc_type


def test_rule_overrides_the_model(shipped):
    text = "Rechnung Nr. 4711\nRechnungsbetrag 1.428,00 €\nBitte überweisen Sie den Betrag. Zahlungsziel 14 Tage."
    plain = classify_document(ocr_result(text), SETTINGS, model=shipped)
    assert plain.doc_type == "rechnung"
    by_keyword = replace(SETTINGS, rules=(("vertrag", ("Zahlungsziel",), ()),))
    cls = classify_document(ocr_result(text.replace("Zahlungsziel", "ZAHLUNGSZIEL")), by_keyword, model=shipped)
    assert (cls.doc_type, cls.method, cls.confidence, cls.needs_review) == ("vertrag", "rule:vertrag", 1.0, False)
    by_pattern = replace(SETTINGS, rules=(("sonstiges", (), (r"Nr\.\s*47\d\d",)),))
    assert classify_document(ocr_result(text), by_pattern, model=shipped).method == "rule:sonstiges"
    umlaut = replace(SETTINGS, rules=(("bescheid", ("Gebührenbescheid",), ()),))
    assert classify_document(ocr_result("Gebuhrenbescheid 2024"), umlaut, model=shipped).doc_type == "bescheid"


@pytest.mark.parametrize("rules", [(("nosuchtype", ("x",), ()),), (("rechnung", (), ("([unclosed",)),)])
def test_bad_rules_raise_config_error(rules, shipped):
    with pytest.raises(ConfigError):
        classify_document(ocr_result("text"), replace(SETTINGS, rules=rules), model=shipped)


def test_model_round_trip_and_atomic_write(tmp_path, small_model):
    path = tmp_path / "m" / "classifier.zip"
    meta = save_model(small_model, path, metrics={"accuracy": 0.5})
    assert not list(path.parent.glob("*.part"))
    loaded = load_model(path)
    assert loaded.labels == small_model.labels and loaded.meta["metrics"] == {"accuracy": 0.5}
    assert len(meta["estimator_sha256"]) == 64
    text = generate_corpus(1, seed=9)[0][0]
    assert loaded.rank(text) == small_model.rank(text)


def _rewrite(path, target, change):
    with zipfile.ZipFile(path) as zf:
        meta, blob = json.loads(zf.read("meta.json")), zf.read("estimator.pkl")
    meta, blob = change(meta, blob)
    with zipfile.ZipFile(target, "w") as zf:
        zf.writestr("meta.json", json.dumps(meta))
        zf.writestr("estimator.pkl", blob)
    return target


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m, b: (m, b[:-10] + b"0123456789"), "checksum"),
        (lambda m, b: ({**m, "format": "paperless"}, b), "foreign"),
        (lambda m, b: ({**m, "format_version": 99}, b), "format version 99"),
        (lambda m, b: ({**m, "sklearn_version": "0.24.2"}, b), "scikit-learn 0.24.2"),
        (lambda m, b: ({**m, "labels": ["a", "b"]}, b), "labels"),
    ],
)
def test_broken_or_foreign_model_fails_loudly(tmp_path, change, message):
    with pytest.raises(ModelError, match=message):
        load_model(_rewrite(shipped_model_path(), tmp_path / "bad.zip", change))


def test_missing_or_non_model_files(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        get_model(tmp_path / "nope.zip")
    junk = tmp_path / "classifier.zip"
    junk.write_bytes(b"\x80\x04 a bare pickle, not our format")
    with pytest.raises(ModelError, match="not an aktenarchiv model"):
        load_model(junk)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ModelError, match="meta.json"):
        load_model(tmp_path / "other.zip")


def test_model_path_resolution(tmp_path):
    assert resolve_model_path(SETTINGS, tmp_path) == shipped_model_path()
    archive_model_path(tmp_path).parent.mkdir(parents=True)
    shutil.copyfile(shipped_model_path(), archive_model_path(tmp_path))  # as `akte train` leaves it
    assert resolve_model_path(SETTINGS, tmp_path) == tmp_path / "model" / "classifier.zip"
    assert resolve_model_path(replace(SETTINGS, model_path="own.zip"), tmp_path) == tmp_path / "own.zip"
    missing = replace(SETTINGS, model_path=str(tmp_path / "missing.zip"))
    with pytest.raises(ModelError):
        classify_document(ocr_result("Antrag"), missing)
    # a rule decides without loading any model
    ruled = replace(missing, rules=(("antrag", ("antrag",), ()),))
    assert classify_document(ocr_result("Antrag"), ruled).doc_type == "antrag"


# A kind of document the generated corpus never shows; the office files it as "urkunde".
_SCHOOL = ("Schulzeugnis der Grundschule am Park, Klasse 4b, Schuljahr 2023/24. Deutsch gut, "
           "Mathematik sehr gut, Sachunterricht gut. Versetzt in Klasse 5. Fehltage: {n}. Klassenlehrerin")


@pytest.mark.slow  # trains two models
def test_label_then_train_changes_the_prediction(tmp_path):
    runner = CliRunner()
    unknown = Classification(doc_type=None, needs_review=True, method="model:x", suggested_type="sonstiges")
    settings, records = make_archive(tmp_path, [(_SCHOOL.format(n=n), unknown) for n in range(3)])
    model_before = train_from_examples(base_corpus(600, seed=3))
    probe = ocr_result(_SCHOOL.format(n=7))
    before = classify_document(probe, SETTINGS, model=model_before)
    assert (before.doc_type or before.suggested_type) != "urkunde"

    review = runner.invoke(commands.app, ["review", "--json"], obj=settings)
    assert review.exit_code == 0, review.output
    assert {json.loads(line)["id"] for line in review.stdout.splitlines()} == {r.id for r in records}

    for record in records:
        result = runner.invoke(commands.app, ["label", record.id[:10], "urkunde", "--note", "Zeugnis"], obj=settings)
        assert result.exit_code == 0, result.output
    stored = ArchiveStore(settings.archive_dir).read_record(records[0].id)
    assert (stored.doc_type, stored.classification.method, stored.classification.needs_review) == (
        "urkunde", "manual", False)
    assert stored.audit[-1]["to_type"] == "urkunde" and stored.audit[-1]["from_method"].startswith("model:")
    assert runner.invoke(commands.app, ["review", "--json"], obj=settings).stdout.strip() == ""

    trained = runner.invoke(commands.app, ["train", "--base-n", "600", "--eval-n", "60"], obj=settings)
    assert trained.exit_code == 0, trained.output
    after_model = load_model(resolve_model_path(SETTINGS, settings.archive_dir))
    assert after_model.meta["counts"]["urkunde"] > 3 and after_model.meta["metrics"]["n"] == 60
    assert classify_document(probe, SETTINGS, model=after_model).doc_type == "urkunde"


def test_a_manifest_with_the_old_suggestion_in_the_method_still_loads(tmp_path):
    settings, records = make_archive(tmp_path, [("Text", Classification(doc_type=None, needs_review=True,
                                                                        method="model:x", suggested_type="antrag"))])
    manifest = next((settings.archive_dir / "records").glob("*/*.json"))
    data = json.loads(manifest.read_text(encoding="utf-8"))
    del data["classification"]["suggested_type"]  # as written before it was a field
    data["classification"]["method"] = "model:x:suggest:antrag"
    manifest.write_text(json.dumps(data), encoding="utf-8")

    cls = ArchiveStore(settings.archive_dir).read_record(records[0].id).classification
    assert (cls.method, cls.suggested_type, cls.needs_review) == ("model:x", "antrag", True)
    review = CliRunner().invoke(commands.app, ["review", "--json"], obj=settings)
    assert json.loads(review.stdout)["suggested"] == "antrag"


def test_label_rejects_unknown_type(tmp_path):
    settings, records = make_archive(tmp_path, [("Text", Classification())])
    result = CliRunner().invoke(commands.app, ["label", records[0].id, "memo"], obj=settings)
    assert result.exit_code != 0 and "unknown type" in str(result.exception)


def test_classify_eval_on_a_generated_held_out_dir(tmp_path):
    labelled = write_labelled_dir(tmp_path / "labelled", generate_corpus(60, seed=8, held_out=True))
    settings, _ = make_archive(tmp_path, [])
    result = CliRunner().invoke(commands.app, ["classify-eval", str(labelled), "--json"], obj=settings)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 60 and report["accuracy"] >= 0.9
    assert set(report["confusion"]) == set(DEFAULT_TAXONOMY)
    assert report["extraction"]["ibans"]["precision"] >= 0.98


def test_public_api_is_pinned():
    import aktenarchiv.classify as classify

    assert sorted(classify.__all__) == sorted([
        "STAGE_VERSION", "LabelledText", "TextModel", "classify_document", "corrected_records", "evaluate",
        "extract_fields", "get_model", "load_labelled_dir", "load_model", "load_stage_model",
        "resolve_model_path", "save_model", "shipped_model_path", "train_from_examples",
    ])
    assert all(hasattr(classify, name) for name in classify.__all__)


def test_empty_page_is_never_filed(shipped):
    """A page OCR could not read (blank, too degraded) goes to review, not to a type."""
    cls = classify_document(ocr_result(""), SETTINGS, model=shipped)
    assert cls.needs_review and cls.doc_type is None and cls.fields == ()
