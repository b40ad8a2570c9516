"""Batch files: JSON Lines, CSV or a folder of .txt/.md files, one video a row, read and checked whole.

Every row is parsed and validated (the same checks as ``ytmaker make``,
``ytmaker.projects.prepare_project``) before anything is stored, and every
error is reported with its line, so a file with one bad row creates nothing.
A row's identity is the batch file's resolved path and the row's content
(its text, or its file's content, and its options): re-running the same file
finds the projects it made instead of making them again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from ytmaker.config import Settings
from ytmaker.db.models import Project
from ytmaker.errors import InvalidInput, YtmakerError
from ytmaker.projects import ProjectOptions, prepare_project
from ytmaker.runtime import Runtime
from ytmaker.sources import Source
from ytmaker.sources.reading import is_url, read_given

#: the columns a row may have; one of ``text``, ``file`` (any kind ytmaker reads) or ``url`` is required
FIELDS = ("text", "file", "url", "title", "language", "format", "voice", "max_duration", "publish", "publish_at", "captions")
#: the files a folder of videos (a batch's, a schedule's) is made of
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
#: errors listed before the rest are summed up
SHOWN_ERRORS = 50


class BatchInvalid(InvalidInput):
    """Rows that cannot be made; ``errors`` has one line each, with the row's line number."""

    def __init__(self, source: Path | str, errors: list[str]) -> None:
        more = f"\n… and {len(errors) - SHOWN_ERRORS} more" if len(errors) > SHOWN_ERRORS else ""
        super().__init__(f"{source}: {len(errors)} row(s) cannot be made; nothing was created:\n"
                         + "\n".join(errors[:SHOWN_ERRORS]) + more)
        self.errors = errors


@dataclass(frozen=True)
class Row:
    line: int  # the line in the file (a folder: the file's position, from 1)
    text: bytes | str
    options: ProjectOptions
    identity: str
    label: str = ""  # what a person calls the row: its file, or its line
    fields: dict = field(default_factory=dict, compare=False)
    name: str | None = None  # the file's name, whose suffix says how to read it
    url: str | None = None  # a page to fetch instead of a text

    def source(self, settings: Settings) -> Source:
        """The row's text as ytmaker narrates it: a document read, a page fetched (ytmaker.sources)."""
        return read_given(self.text, settings, url=self.url, name=self.name)


def read_rows(source: Path) -> tuple[list[Row], list[str]]:
    """Parse ``source`` into rows, and one error per row that cannot be read (with its line)."""
    source = source.resolve()
    if source.is_dir():
        return _folder_rows(source), []
    try:
        content = source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the batch file {source}: {exc}") from None
    records = _csv_records(content) if source.suffix.lower() == ".csv" else _jsonl_records(content)
    if not records:
        raise InvalidInput(f"{source} has no rows; give one video a line (JSON Lines, or CSV with a header)")
    return rows_of(records, str(source), files=source.parent)


def rows_of(records: list[tuple[int, object]], key: str, *, files: Path | None) -> tuple[list[Row], list[str]]:
    """Rows from parsed records (line, object), known by ``key`` and their content; ``file`` fields are read from the
    folder ``files`` (None: refused, as for rows sent over HTTP, which name no file of this machine)."""
    rows, errors = [], []
    for line, record in records:
        try:
            rows.append(_row(key, files, line, record))
        except YtmakerError as exc:
            errors.append(f"line {line}: {exc}")
    return rows, errors


def check_rows(rt: Runtime, source: Path) -> tuple[list[Row], list[Project]]:
    """Every row of ``source`` read and checked as ``make`` checks it, nothing stored; BatchInvalid lists every bad row."""
    rows, errors = read_rows(source)
    return check(rt, str(source.resolve()), rows, errors)


def check(rt: Runtime, where: str, rows: list[Row], errors: list[str], *,
          owner_token_id: int | None = None) -> tuple[list[Row], list[Project]]:
    """Each row's project, checked and not stored; BatchInvalid lists ``errors`` and every row that fails, by line."""
    projects = []
    for row in rows:
        try:
            source = row.source(rt.settings)
            options = replace(row.options, source_url=source.url)
            projects.append(prepare_project(rt, source.text, options, owner_token_id=owner_token_id))
        except YtmakerError as exc:
            errors.append(f"{row.label}: {exc}")
    if errors:
        order = {f"line {r.line}": r.line for r in rows} | {r.label: r.line for r in rows}
        raise BatchInvalid(where, sorted(errors, key=lambda e: _line_of(e, order)))
    return rows, projects


def _line_of(error: str, known: dict[str, int]) -> int:
    head = error.split(":", 1)[0]
    return known.get(head, int(head[5:]) if head.startswith("line ") and head[5:].isdigit() else 0)


def _jsonl_records(content: str) -> list[tuple[int, object]]:
    records: list[tuple[int, object]] = []
    for number, text in enumerate(content.splitlines(), start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        try:
            records.append((number, json.loads(text)))
        except json.JSONDecodeError as exc:
            records.append((number, InvalidInput(f"not valid JSON ({exc.msg} at column {exc.colno})")))
    return records


def _csv_records(content: str) -> list[tuple[int, object]]:
    reader = csv.DictReader(io.StringIO(content))
    records: list[tuple[int, object]] = []
    for record in reader:
        extra = record.pop(None, None)  # DictReader files surplus cells under None
        if extra:
            records.append((reader.line_num, InvalidInput(f"{len(extra)} cell(s) more than the header has")))
            continue
        records.append((reader.line_num, {k: v for k, v in record.items() if v not in (None, "")}))
    return records


def _row(key: str, files: Path | None, line: int, record: object) -> Row:
    if isinstance(record, Exception):
        raise record
    if not isinstance(record, dict):
        raise InvalidInput("a row must be a JSON object such as {\"text\": \"…\"}")
    unknown = sorted(set(record) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)}; a row may have {', '.join(FIELDS)}")
    if sum(name in record for name in ("text", "file", "url")) != 1:
        raise InvalidInput("give one of text, file or url")
    name = url = None
    if "url" in record:
        if not isinstance(record["url"], str) or not is_url(record["url"]):
            raise InvalidInput("url must be an http:// or https:// address")
        text: bytes | str = ""
        url = record["url"]
    elif "file" in record:
        if files is None:
            raise InvalidInput("file is not accepted here: send the row's text")
        path = (files / str(record["file"])).resolve()
        name = path.name
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {record['file']}: {exc.strerror}") from None
    else:
        if not isinstance(record["text"], str):
            raise InvalidInput("text must be a string")
        text = record["text"]
    options = options_from(record)
    return Row(line=line, text=text, options=options, identity=identity(key, text, record), label=f"line {line}",
               fields=record, name=name, url=url)


def options_from(record: dict) -> ProjectOptions:
    """A row's (or a schedule's) fields as project options; InvalidInput names a field of the wrong type."""
    for name in ("title", "language", "format", "voice", "publish", "publish_at", "captions"):
        if name in record and not isinstance(record[name], str):
            raise InvalidInput(f"{name} must be a string")
    duration = record.get("max_duration")
    if duration is not None:
        try:
            duration = float(duration)
        except (TypeError, ValueError):
            raise InvalidInput(f"max_duration {duration!r} is not a number of seconds") from None
    return ProjectOptions(title=record.get("title"), language=record.get("language"), video_format=record.get("format"),
                          voice=record.get("voice"), publish_target=record.get("publish", "folder"),
                          max_duration_s=duration, publish_at=record.get("publish_at"), captions=record.get("captions"))


def _folder_rows(folder: Path) -> list[Row]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
    if not files:
        raise InvalidInput(f"{folder} has no files to make videos of ({', '.join(TEXT_SUFFIXES)})")
    rows = []
    for number, path in enumerate(files, start=1):
        text = path.read_bytes()
        rows.append(Row(line=number, text=text, options=ProjectOptions(), identity=identity(str(path), text, {}),
                        label=path.name, name=path.name))
    return rows


def identity(key: str, text: bytes | str, record: dict) -> str:
    """The row's identity: its batch's key (the file's path) and its content (text and options), whatever its position."""
    digest = hashlib.sha256(key.encode())
    digest.update(b"\0" + (text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text))
    options = {k: record[k] for k in sorted(record) if k not in ("text", "file")}
    digest.update(b"\0" + json.dumps(options, sort_keys=True, default=str).encode())
    return digest.hexdigest()
