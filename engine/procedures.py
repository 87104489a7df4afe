"""Procedure versions: deploy a BPMN bundle, list versions, and cache parsed specs.

A version is identified by the SHA-256 of its exact files and a sequence number. Deploying the same
content twice is a no-op; running cases keep the version they started on, new cases take the latest.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .clock import Clock
from .definitions import ProcedureBundle, build_bundle, load_library
from .domain.procedure import ProcedureFacts
from .errors import NotFound, ProcedureError
from .lint import lint_bundle
from .models import ProcedureVersion
from .spiff import CompiledSpecs, compile_specs


@dataclass(frozen=True)
class LoadedVersion:
    """What a running case needs from its version, restored once and shared between cases."""

    id: int
    procedure_id: str
    version: int
    name: str
    meta: dict[str, Any]
    elements: dict[str, dict[str, Any]]
    specs: CompiledSpecs
    facts: ProcedureFacts


def content_hash(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode("utf-8") + b"\0" + files[name] + b"\0")
    return digest.hexdigest()


class ProcedureStore:
    """Deploys bundles and serves versions to the case runtime."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._cache: dict[int, LoadedVersion] = {}
        self._lock = threading.Lock()

    def deploy_bundle(
        self, session: Session, bundle: ProcedureBundle, actor: str
    ) -> tuple[ProcedureVersion, bool]:
        """Store a new version unless the latest already has this content; returns (version, created)."""
        errors = [i for i in lint_bundle(bundle, now=self._clock.now()) if i.severity == "error"]
        if errors:
            listing = "; ".join(f"{i.element_id or 'quy trình'}: {i.message}" for i in errors)
            raise ProcedureError(
                f"Quy trình '{bundle.meta.id}' không đạt kiểm tra: {listing}",
                details={"issues": [i.__dict__ for i in errors]},
            )
        roots = {
            bundle_main_name(bundle): bundle.main,
            **{f"{pid}.bpmn": root for pid, root in bundle.called.items()},
        }
        specs = compile_specs(roots, bundle.meta.id)
        digest = content_hash(bundle.files)
        procedure_id = bundle.meta.id
        existing = session.scalar(
            select(ProcedureVersion).where(
                ProcedureVersion.procedure_id == procedure_id, ProcedureVersion.content_hash == digest
            )
        )
        if existing is not None:
            return existing, False
        last = session.scalar(
            select(func.max(ProcedureVersion.version)).where(ProcedureVersion.procedure_id == procedure_id)
        )
        session.execute(
            update(ProcedureVersion)
            .where(ProcedureVersion.procedure_id == procedure_id)
            .values(is_latest=False)
        )
        row = ProcedureVersion(
            procedure_id=procedure_id,
            version=(last or 0) + 1,
            content_hash=digest,
            name=bundle.meta.name,
            national_code=bundle.meta.code,
            meta=bundle.meta.model_dump(mode="json"),
            elements={k: v.model_dump(mode="json") for k, v in bundle.elements.items()},
            files={name: data.decode("utf-8") for name, data in bundle.files.items()},
            specs_json=specs.to_json(),
            deployed_at=self._clock.now(),
            deployed_by=actor,
            is_latest=True,
        )
        session.add(row)
        session.flush()
        return row, True

    def deploy_files(
        self, session: Session, main_name: str, main: bytes, shared: Mapping[str, bytes], actor: str
    ) -> tuple[ProcedureVersion, bool]:
        return self.deploy_bundle(session, build_bundle(main, main_name, shared), actor)

    def deploy_library(
        self, session: Session, directory: Path, actor: str
    ) -> list[tuple[ProcedureVersion, bool]]:
        return [self.deploy_bundle(session, bundle, actor) for bundle in load_library(directory)]

    def latest(self, session: Session, procedure_id: str) -> ProcedureVersion:
        row = session.scalar(
            select(ProcedureVersion).where(
                ProcedureVersion.procedure_id == procedure_id, ProcedureVersion.is_latest.is_(True)
            )
        )
        if row is None:
            raise NotFound(f"Không tìm thấy thủ tục '{procedure_id}'")
        return row

    def latest_id(self, session: Session, procedure_id: str) -> int:
        """The id of the version new cases start on (the row itself, with its files, is not read)."""
        found = session.scalar(
            select(ProcedureVersion.id).where(
                ProcedureVersion.procedure_id == procedure_id, ProcedureVersion.is_latest.is_(True)
            )
        )
        if found is None:
            raise NotFound(f"Không tìm thấy thủ tục '{procedure_id}'")
        return int(found)

    def list_latest(self, session: Session) -> list[ProcedureVersion]:
        return list(
            session.scalars(
                select(ProcedureVersion)
                .where(ProcedureVersion.is_latest.is_(True))
                .order_by(ProcedureVersion.name)
            )
        )

    def versions(self, session: Session, procedure_id: str) -> list[ProcedureVersion]:
        return list(
            session.scalars(
                select(ProcedureVersion)
                .where(ProcedureVersion.procedure_id == procedure_id)
                .order_by(ProcedureVersion.version)
            )
        )

    def load(self, session: Session, version_id: int) -> LoadedVersion:
        """The version's restored specs and metadata; versions are immutable, so caching is safe."""
        cached = self._cache.get(version_id)
        if cached is not None:
            return cached
        row = session.get(ProcedureVersion, version_id)
        if row is None:
            raise NotFound(f"Không tìm thấy phiên bản quy trình #{version_id}")
        specs = CompiledSpecs.from_json(row.procedure_id, row.specs_json)
        loaded = LoadedVersion(
            id=row.id,
            procedure_id=row.procedure_id,
            version=row.version,
            name=row.name,
            meta=row.meta,
            elements=row.elements,
            specs=specs,
            facts=ProcedureFacts(row.meta, row.elements, specs.spec_names()),
        )
        with self._lock:
            self._cache[version_id] = loaded
        return loaded


def compile_files(procedure_id: str, files: Mapping[str, str | bytes]) -> LoadedVersion:
    """A version from its stored files alone (``procedure_versions.files``, a golden or exported
    history), without a database: what an auditor needs to replay a case elsewhere."""
    raw = {name: data.encode("utf-8") if isinstance(data, str) else data for name, data in files.items()}
    main_name = f"{procedure_id}.bpmn"
    if main_name not in raw:
        raise ProcedureError(f"Thiếu tệp quy trình chính '{main_name}'")
    bundle = build_bundle(raw[main_name], main_name, {k: v for k, v in raw.items() if k != main_name})
    roots = {main_name: bundle.main, **{f"{pid}.bpmn": root for pid, root in bundle.called.items()}}
    specs = compile_specs(roots, bundle.meta.id)
    meta = bundle.meta.model_dump(mode="json")
    elements = {k: v.model_dump(mode="json") for k, v in bundle.elements.items()}
    return LoadedVersion(
        id=0,
        procedure_id=bundle.meta.id,
        version=0,
        name=bundle.meta.name,
        meta=meta,
        elements=elements,
        specs=specs,
        facts=ProcedureFacts(meta, elements, specs.spec_names()),
    )


def bundle_main_name(bundle: ProcedureBundle) -> str:
    return f"{bundle.meta.id}.bpmn"
