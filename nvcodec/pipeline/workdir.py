"""The work folder of a segmented encode (``OUT.parts``) and what ``--resume`` trusts in it: nothing
it has not verified.

The folder holds ``plan.json`` (the encode's identity: a SHA-256 of the input's bytes, the frame
range, every option but the device, and the segment plan) and, for each finished segment k, its
file ``segment-0000k.nrv`` and its manifest ``segment-0000k.json``, written atomically after the
file. A manifest binds the segment to the plan (the plan's digest), to its place (index, first
frame, frame count) and to its bytes (their SHA-256 and length), and carries the segment's report.
On ``--resume`` a plan that is missing, damaged or another encode's is refused; a segment whose
manifest does not verify is fitted again, never reused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nvcodec.errors import NvcError
from nvcodec.files import write_atomic
from nvcodec.io import InputSpec, Span, is_pattern, pattern_files
from nvcodec.pipeline.options import EncodeOptions
from nvcodec.pipeline.report import EncodeReport

PLAN_NAME = "plan.json"
MANIFEST_KEYS = ("plan", "segment", "first", "frames", "bytes", "sha256", "report")
CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def input_digest(source: InputSpec) -> str:
    """SHA-256 of what the input holds: the file's bytes, every image of a pattern (names and
    bytes), or ``sample`` for the sample clip."""
    if source.path is None:
        return "sample"
    path = Path(source.path)
    if is_pattern(path) and not path.exists():
        digest = hashlib.sha256()
        for image in pattern_files(path):
            digest.update(image.name.encode() + b"\0" + file_digest(image).encode())
        return digest.hexdigest()
    return file_digest(path)


def fingerprint(source: InputSpec, options: EncodeOptions, spans: list[Span]) -> dict[str, Any]:
    """What identifies an encode for ``--resume``: the input's content (not its name or time), the
    frame range, crop and scale, every option but the device, and the segment plan."""
    opts = {f.name: getattr(options, f.name) for f in dataclasses.fields(options) if f.init and f.name != "device"}
    plan = {
        "input": input_digest(source),
        "range": [source.start, source.frames, source.crop, source.scale],
        "options": opts,
        "spans": spans,
    }
    return json.loads(json.dumps(plan, default=str))


def fingerprint_digest(plan: dict[str, Any]) -> str:
    """The SHA-256 of a plan (as :func:`fingerprint` makes it) that every manifest carries."""
    return hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class WorkDir:
    """The folder of an encode's finished segments: ``OUT.parts`` beside the output ``OUT``.
    ``plan`` is the digest of the encode's plan, which every manifest must carry."""

    output: Path
    plan: str = ""

    @property
    def path(self) -> Path:
        """The folder."""
        return self.output.with_name(self.output.name + ".parts")

    def segment(self, k: int) -> Path:
        """Segment ``k``'s file."""
        return self.path / f"segment-{k:05d}.nrv"

    def manifest(self, k: int) -> Path:
        """Segment ``k``'s manifest (JSON)."""
        return self.path / f"segment-{k:05d}.json"

    def open(self, plan: dict[str, Any], resume: bool) -> WorkDir:
        """This folder bound to ``plan``: created, or, with ``resume``, the one there checked to
        belong to the same encode (an unfinished one is never silently discarded or reused)."""
        stamp, bound = self.path / PLAN_NAME, WorkDir(self.output, fingerprint_digest(plan))
        there = self.path.exists() or self.path.is_symlink()
        if there and not resume:
            raise NvcError(
                f"{self.path}: holds an interrupted encode; add --resume to continue it, or remove the folder"
            )
        if not there:
            try:
                self.path.mkdir()
            except OSError as exc:
                raise NvcError(f"{self.path}: cannot create the work folder: {exc.strerror or exc}") from None
            try:
                write_atomic(stamp, lambda tmp: tmp.write_text(json.dumps(plan, sort_keys=True)))
            except BaseException:
                self.path.rmdir()  # nothing in it yet: no interrupted encode to keep
                raise
            return bound
        if not self.path.is_dir():
            raise NvcError(f"{self.path}: is not a folder; remove it")
        if _read_json(stamp) is None:
            raise NvcError(f"{stamp}: missing or damaged, so the segments there cannot be checked; remove {self.path}")
        if _read_json(stamp) != plan:
            raise NvcError(f"{self.path}: belongs to an encode with other input or options; remove it")
        return bound

    def save(self, k: int, span: Span, report: EncodeReport) -> None:
        """Record segment ``k`` (frames ``span``) as finished, after its file is in place."""
        data = self.segment(k).read_bytes()
        manifest = {
            "plan": self.plan,
            "segment": k,
            "first": span[0],
            "frames": span[1],
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "report": report.to_json(),
        }
        write_atomic(self.manifest(k), lambda tmp: tmp.write_text(json.dumps(manifest)))

    def check(self, k: int, span: Span) -> str | None:
        """Why segment ``k`` (frames ``span``) cannot be reused, or None when its manifest and
        file verify; "missing" when neither is there."""
        try:
            self.load(k, span)
        except NvcError as exc:
            return str(exc)
        return None

    def load(self, k: int, span: Span) -> tuple[bytes, dict[str, Any]]:
        """Segment ``k``'s bytes and report, verified against its manifest; :class:`NvcError`
        with the reason when they do not verify."""
        file, manifest = self.segment(k), self.manifest(k)
        if not file.is_file() and not manifest.is_file():
            raise NvcError("missing")
        row = _read_json(manifest)
        if not isinstance(row, dict) or set(row) != set(MANIFEST_KEYS):
            raise NvcError(f"{manifest.name} is missing or damaged")
        if row["plan"] != self.plan:
            raise NvcError(f"{manifest.name} belongs to another encode")
        if [row["segment"], row["first"], row["frames"]] != [k, *span]:
            raise NvcError(f"{manifest.name} describes another segment")
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise NvcError(f"{file.name}: {exc.strerror or exc}") from None
        if len(data) != row["bytes"] or hashlib.sha256(data).hexdigest() != row["sha256"]:
            raise NvcError(f"{file.name} is not the file its manifest describes")
        return data, _checked_report(row["report"], span, manifest.name)

    def discard(self, k: int) -> None:
        """Remove segment ``k``'s file and manifest (the manifest first)."""
        self.manifest(k).unlink(missing_ok=True)
        self.segment(k).unlink(missing_ok=True)


def _number(value: Any, optional: bool = False) -> bool:
    return (value is None and optional) or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _checked_report(row: Any, span: Span, name: str) -> dict[str, Any]:
    """A segment's report as its manifest holds it, checked to be a report of ``span``'s frames
    with a number in every field the whole file's report sums or averages."""
    try:
        report = EncodeReport(**row)
    except TypeError:
        raise NvcError(f"{name}: its report is damaged") from None
    counts = (report.bytes, report.params, report.fit_seconds, report.width, report.height, report.epochs)
    qualities: tuple[float | int | None, ...] = (report.psnr, report.ms_ssim, report.fit_psnr, report.fit_ms_ssim)
    qualities = (*qualities, report.prune, report.weight_bits, report.embed_bits)
    if not (all(map(_number, counts)) and all(_number(q, True) for q in qualities)):
        raise NvcError(f"{name}: its report is damaged")
    if not isinstance(report.notes, list) or not all(isinstance(n, str) for n in report.notes):
        raise NvcError(f"{name}: its report is damaged")
    if report.frames != span[1]:
        raise NvcError(f"{name}: its report is of {report.frames} frames, not {span[1]}")
    return row


def _read_json(path: Path) -> Any:
    """The JSON value in ``path``, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
