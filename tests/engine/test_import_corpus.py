"""The import assistant on diagrams nobody on this project wrote: the BPMN MIWG reference suite and
four modelling tools' exports (../shared/bpmn-corpus/miwg, CC BY 3.0, used in place, not copied).

Every file opens in the assistant and ends deployable after its defaults or with clear reasons;
every deployable one deploys and runs to completion with simple task data. The counts are printed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from engine.clock import FixedClock
from engine.importer import assess
from engine.service import Engine
from tests.engine.helpers import DESIGNER, drive_to_end
from tests.engine.test_refusals import english_residue

CORPUS = Path(__file__).resolve().parents[2].parent.parent / "shared" / "bpmn-corpus" / "miwg"
if not CORPUS.is_dir():  # worktrees live one level deeper than /work/main
    CORPUS = Path("/work/shared/bpmn-corpus/miwg")
FILES = sorted(CORPUS.rglob("*.bpmn"))


def test_corpus_is_present() -> None:
    assert len(FILES) > 100, f"BPMN MIWG corpus not found under {CORPUS}"


def test_every_file_opens_and_ends_deployable_or_with_reasons() -> None:
    outcomes: Counter[str] = Counter()
    for path in FILES:
        report = assess(path.name, path.read_bytes())
        assert report.deployable or report.problems, path
        assert all(p.strip() for p in report.problems), path
        outcomes["deployable" if report.deployable else "refused"] += 1
        # Everything the assistant filled in is reported with its XML attribute name.
        assert all(f.attribute is None or "_" not in f.attribute for f in report.findings), path
        # Every reason is Vietnamese: no SpiffWorkflow/Python/lxml English after a Vietnamese prefix.
        said = [*report.problems, *report.warnings, *(f.message for f in report.findings)]
        assert not [m for m in said if english_residue(m)], (path, [m for m in said if english_residue(m)])
    print(f"\nimport assistant on {len(FILES)} MIWG files: {dict(outcomes)}")
    # Most of them are made deployable by the assistant's defaults and repairs (14 without them).
    assert outcomes["deployable"] >= 120


def test_deployable_files_run_to_completion(engine: Engine, clock: FixedClock) -> None:
    runs: Counter[str] = Counter()
    stuck: list[str] = []
    for path in FILES:
        report = assess(path.name, path.read_bytes())
        if not report.deployable or report.prepared is None:
            continue
        view = engine.deploy(f"{report.process_id}.bpmn", report.prepared, {}, DESIGNER)
        case = engine.start_case(
            {"procedure_id": view.procedure_id, "applicant": {"name": "Lê Văn Cường"}}, engine.actor("clerk")
        )
        done = drive_to_end(engine, clock, case.code)
        runs["completed" if done.completed else "stuck"] += 1
        if not done.completed:
            stuck.append(f"{path.relative_to(CORPUS)}: status {done.status}, tasks {done.tasks}")
    print(f"\nMIWG files made deployable: {sum(runs.values())}, run to completion: {dict(runs)}")
    assert runs["completed"] > 0
    assert not stuck, stuck
