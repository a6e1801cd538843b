"""Hostile inputs and crashes on the ingest side (issue 8): nothing hangs, nothing leaks out of
a private file, nothing locks the archive, no traceback; every good file is archived once."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.ingest.journal import Journal
from aktenarchiv.workers import WorkerDiedError, WorkerPool

SECRET = b"GEHEIM: Personalakte 4711, nur fuer die Amtsleitung"
BAD_NAME = os.fsdecode(b"scan\xff\xfe.png")


def akte_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKTE_")}
    env["AKTE_OCR_WORKERS"] = "1"
    return env


def akte(archive: Path, *args, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``akte`` as a user does, in its own process."""
    cmd = [sys.executable, "-m", "aktenarchiv", "--archive", str(archive), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, env=akte_env(), timeout=timeout)


def start_akte(archive: Path, *args) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "aktenarchiv", "--archive", str(archive), *map(str, args)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=akte_env(),
                            start_new_session=True)


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text`` (zombies do not count)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text.encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pids: list[int]) -> list[int]:
    """Those of ``pids`` that still run (not gone, not a zombie)."""
    return [pid for pid in pids if (st := _stat(pid)) and st[0] != "Z"]


def group_members(pgids: set[int]) -> list[int]:
    """Live processes in any of the process groups ``pgids``."""
    pids = [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()]
    return [pid for pid in alive(pids) if (st := _stat(pid)) and int(st[2]) in pgids]


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def snapshot(folder: Path, skip: Path) -> dict[str, tuple]:
    """Everything about the files under ``folder`` (except ``skip``) that ingest must not change."""
    state = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if Path(root, d) != skip]
        for name in dirs + files:
            path = Path(root, name)
            st = path.lstat()
            content = None
            if stat.S_ISLNK(st.st_mode):
                content = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                content = hashlib.sha256(path.read_bytes()).hexdigest()
            state[os.fsencode(path.relative_to(folder))] = (st.st_mode, st.st_size, st.st_mtime_ns, content)
    return state


def archive_bytes(archive: Path) -> bytes:
    return b"".join(p.read_bytes() for p in archive.rglob("*") if p.is_file() and not p.is_symlink())


# -- crashes -------------------------------------------------------------------------------

@pytest.mark.slow
def test_kill_9_of_akte_leaves_no_worker_and_no_lock(tmp_path, make_scan, settings):
    folder = tmp_path / "stapel"
    for i in range(2):  # long documents: an orphan would still be OCRing when we look
        make_scan(f"akte_{i}.tiff", *[[f"Vorgang Nummer {i}", f"Antrag auf Wohngeld, Seite {n}"] for n in range(8)],
                  folder=folder)
    archive = settings.archive_dir
    proc = start_akte(archive, "ingest", folder)
    rerun = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not processes_mentioning(str(archive / "work")):
            time.sleep(0.05)
        ocr_groups = {os.getpgid(pid) for pid in processes_mentioning(str(archive / "work"))}
        workers = processes_mentioning(f"aktenarchiv.workers {proc.pid}")
        assert ocr_groups and workers, "OCR should be running"
        for pid in workers:  # the lock is ours alone: no worker holds its descriptor
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
            assert str(archive / ".lock") not in links

        os.kill(proc.pid, signal.SIGKILL)  # only akte itself, as `kill -9 $!` does
        proc.wait()
        rerun = start_akte(archive, "ingest", folder)  # at once
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (alive(workers) or group_members(ocr_groups)):
            time.sleep(0.1)
        assert alive(workers) == [] and group_members(ocr_groups) == []  # no orphan ocrmypdf/tesseract
        _, stderr = rerun.communicate(timeout=600)
        assert rerun.returncode in (0, 4), stderr.decode()
        assert b"another akte process" not in stderr
    finally:
        for process in (proc, rerun):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        kill_all(processes_mentioning(f"aktenarchiv.workers {proc.pid}"))
    store = ArchiveStore(archive)
    assert len(list(store.record_ids())) == 2
    assert store.verify().ok


def test_worker_pool_survives_a_dying_worker_and_stops_at_once():
    with WorkerPool(2) as pool:
        pool.submit("pid", os.getpid)
        pool.submit("bad", int, "keine Zahl")
        done = {d.key: d for d in pool.wait() + pool.wait()}
        assert done["pid"].result in pool.pids and done["pid"].result != os.getpid()
        assert isinstance(done["bad"].error, ValueError)
        pool.submit("unpicklable", threading.Lock)  # a result that cannot travel back keeps its evidence
        [lost] = pool.wait()
        assert isinstance(lost.error, RuntimeError) and "pickle" in str(lost.error)
        assert "Traceback" in lost.error.worker_traceback and "pickle" in lost.error.worker_traceback
        pool.submit("died", os._exit, 3)
        [died] = pool.wait()
        assert isinstance(died.error, WorkerDiedError)
        pool.submit("again", os.getpid)
        assert pool.wait()[0].result > 0
        # The job's thread cannot take a SIGTERM now, as when one lands just before a blocking
        # call: the worker must stop all the same, not run its job on until SIGKILL.
        pool.submit("deaf", signal.pthread_sigmask, signal.SIG_BLOCK, {signal.SIGTERM})
        assert pool.wait()[0].error is None
        pool.submit("slow", time.sleep, 60)
        pids = pool.pids
        started = time.monotonic()
        pool.stop()
    assert time.monotonic() - started < 5
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_the_ocr_at_once(tmp_path, make_scan, settings, signum):
    folder = tmp_path / "stapel"
    make_scan("akte.png", ["Vorgang Gewerbeanmeldung"], ["Seite zwei"], ["Seite drei"], folder=folder)
    archive = settings.archive_dir
    proc = start_akte(archive, "ingest", folder)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not processes_mentioning(str(archive / "work")):
            time.sleep(0.05)
        assert processes_mentioning(str(archive / "work")), "OCR should be running"
        os.killpg(proc.pid, signum)  # the terminal's Ctrl-C goes to akte's process group
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 130, stderr.decode()
        assert b"run the same command again" in stderr and b"Traceback" not in stderr
        assert processes_mentioning(str(archive / "work")) == []
        assert processes_mentioning(f"aktenarchiv.workers {proc.pid}") == []
    finally:
        kill_all(processes_mentioning(f"aktenarchiv.workers {proc.pid}"))
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    rerun = akte(archive, "ingest", folder)
    assert rerun.returncode == 0, rerun.stderr.decode()


@pytest.mark.slow
def test_kill_between_archival_pdf_and_manifest(tmp_path, make_scan, settings):
    folder = tmp_path / "stapel"
    make_scan("bescheid.png", ["Bescheid über die Hundesteuer", "Az. 63.2-4711/24"], folder=folder)
    archive = settings.archive_dir
    # A real SIGKILL at exactly the worst moment: both objects stored, manifest not yet written.
    script = textwrap.dedent(f"""
        import os, signal
        from aktenarchiv.archive.seal import SealGroup
        from aktenarchiv.config import load_settings
        from aktenarchiv.pipeline import ingest
        # The manifest is staged (and sealed) by SealGroup.add: die just before it.
        SealGroup.add = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
        ingest([{str(folder)!r}], load_settings({str(archive)!r}, environ={{}}))
    """)
    crashed = subprocess.run([sys.executable, "-c", script], env=akte_env(), capture_output=True, timeout=300)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()
    assert len(list((archive / "archival").glob("*/*.pdf"))) == 1
    assert list((archive / "records").glob("*/*.json")) == []

    rerun = akte(archive, "ingest", folder)
    assert rerun.returncode == 0, rerun.stderr.decode()
    verify = akte(archive, "verify")
    assert verify.returncode == 0, verify.stdout.decode() + verify.stderr.decode()
    assert len(list((archive / "archival").glob("*/*.pdf"))) == 1
    assert len(list((archive / "objects").glob("*/*"))) == 1


# -- hostile folder entries ---------------------------------------------------------------

@pytest.mark.slow  # a whole `akte` process, which must not hang on the pipe
def test_fifo_is_reported_not_opened(tmp_path, settings):
    folder = tmp_path / "eingang"
    folder.mkdir()
    os.mkfifo(folder / "scan.pdf")
    result = akte(settings.archive_dir, "ingest", folder, "--json", timeout=120)
    assert result.returncode == 4, result.stderr.decode()
    [outcome] = json.loads(result.stdout)["outcomes"]
    assert outcome["status"] == "quarantined" and "named pipe" in outcome["reason"]
    [reason] = (settings.archive_dir / "quarantine").glob("*/reason.json")
    assert json.loads(reason.read_text())["copy_kept"] is False


@pytest.mark.slow  # a whole `akte` process: the real bytes on its stderr
def test_non_utf8_names_are_kept_and_shown_escaped(tmp_path, settings):
    folder = tmp_path / "eingang"
    folder.mkdir()
    (folder / BAD_NAME).write_bytes(b"")
    (folder / "\x1b[2J\x1b[31mloeschen.pdf").write_bytes(b"kein PDF")  # a name that would clear the screen
    result = akte(settings.archive_dir, "ingest", folder, "--json", timeout=120)
    assert result.returncode == 4, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    assert b"\x1b[2J" not in result.stderr and b"\\x1b[2J\\x1b[31mloeschen.pdf" in result.stderr
    outcome = next(o for o in json.loads(result.stdout)["outcomes"] if "scan" in o["path"])
    assert outcome["path"].endswith("scan\\xff\\xfe.png")
    [reason] = (settings.archive_dir / "quarantine" / hashlib.sha256(b"").hexdigest()).glob("reason.json")
    recorded = json.loads(reason.read_text())
    assert recorded["source"].endswith("scan\\xff\\xfe.png")
    assert bytes.fromhex(recorded["source_bytes_hex"]) == os.fsencode(folder / BAD_NAME)
    assert (reason.parent / BAD_NAME).read_bytes() == b""

    journal = Journal(settings.archive_dir / "journal.sqlite")
    journal.mark("ab" * 32, str(folder / BAD_NAME), "started")
    assert journal.get("ab" * 32).path == str(folder / BAD_NAME)  # the exact bytes come back
    journal.close()


def test_symlink_leaving_the_folder_is_not_followed(tmp_path, cli, settings):
    private = tmp_path / "privat"
    private.mkdir()
    (private / "geheim.pdf").write_bytes(SECRET)
    (private / "geheim.pdf").chmod(0o600)
    folder = tmp_path / "eingang"
    folder.mkdir()
    (folder / "link.pdf").symlink_to(private / "geheim.pdf")
    (folder / "ordner").symlink_to(private)
    (folder / "kaputt.pdf").write_bytes(b"%PDF-1.4 nicht mehr")
    (folder / "verweis.pdf").symlink_to("kaputt.pdf")  # inside the folder: followed

    result = cli("ingest", folder, "--json")
    assert result.exit_code == 4, result.output
    outcomes = {Path(o["path"]).name: o for o in json.loads(result.stdout)["outcomes"]}
    assert "leaves the input folder" in outcomes["link.pdf"]["reason"]
    assert "leaves the input folder" in outcomes["ordner"]["reason"]
    assert "truncated PDF" in outcomes["kaputt.pdf"]["reason"]
    assert "truncated PDF" in outcomes["verweis.pdf"]["reason"]  # same bytes as its target
    assert SECRET not in archive_bytes(settings.archive_dir)
    for path in (settings.archive_dir / "quarantine").rglob("*"):  # private to the archive's owner
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_long_name_is_kept_under_a_short_one(tmp_path, cli, settings):
    folder = tmp_path / "eingang"
    folder.mkdir()
    name = "B" * 251 + ".pdf"
    (folder / name).write_bytes(b"%PDF-1.7 abgeschnitten")
    result = cli("ingest", folder)
    assert result.exit_code == 4, result.output
    [reason_file] = (settings.archive_dir / "quarantine").glob("*/reason.json")
    reason = json.loads(reason_file.read_text())
    assert reason["copy_kept"] is True and reason["source"].endswith(name)
    assert (reason_file.parent / reason["copy"]).read_bytes() == b"%PDF-1.7 abgeschnitten"


def test_archive_copies_do_not_widen_the_source_mode(tmp_path, cli, settings, make_text_pdf):
    source = make_text_pdf("eingang/personal.pdf", ["Personalakte Frau Müßig, vertraulich"])
    source.chmod(0o600)
    (tmp_path / "eingang" / "leer.pdf").write_bytes(b"")
    (tmp_path / "eingang" / "leer.pdf").chmod(0o644)
    assert cli("ingest", tmp_path / "eingang").exit_code == 4
    [original] = (settings.archive_dir / "objects").glob("*/*")
    assert stat.S_IMODE(original.stat().st_mode) == 0o600
    for path in (settings.archive_dir / "quarantine").rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) in (0o600, 0o700), path


def test_archive_folder_is_no_input(tmp_path, cli, settings, make_text_pdf):
    make_text_pdf("eingang/satzung.pdf", ["Satzung über die Hundesteuer der Stadt Musterstadt"])
    assert cli("ingest", tmp_path / "eingang").exit_code == 0
    for inside in (settings.archive_dir, settings.archive_dir / "objects"):
        result = cli("ingest", inside)
        assert result.exit_code == 2, result.output
        assert "inside the archive" in result.output
    # An archive inside the input folder is skipped, not archived into itself.
    nested = tmp_path / "eingang" / "archiv"
    assert cli("--archive", nested, "ingest", tmp_path / "eingang").exit_code == 0
    assert cli("--archive", nested, "ingest", tmp_path / "eingang").exit_code == 0
    assert len(list(ArchiveStore(nested).record_ids())) == 1


# -- a full disk ---------------------------------------------------------------------------

def test_full_journal_disk_stops_with_exit_5_and_resumes(tmp_path, cli, settings, monkeypatch):
    folder = tmp_path / "eingang"
    folder.mkdir()
    for i in range(40):
        (folder / f"{i:02d}_{'notiz' * 30}.pdf").write_bytes(f"Notiz {i}".encode())
    opened = Journal.__init__

    def small_disk(self, path):
        opened(self, path)
        # The real SQLITE_FULL ("database or disk is full") once the file would grow.
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(Journal, "__init__", small_disk)
    result = cli("ingest", folder)
    assert result.exit_code == 5, result.output
    assert "disk is full" in result.output and "Traceback" not in result.output

    monkeypatch.setattr(Journal, "__init__", opened)
    result = cli("ingest", folder)
    assert result.exit_code == 4, result.output
    journal = Journal(settings.archive_dir / "journal.sqlite")
    assert journal.db.execute("SELECT count(*) FROM inputs WHERE state = 'quarantined'").fetchone()[0] == 40
    journal.close()


def test_full_index_disk_stops_with_exit_5_and_resumes(tmp_path, cli, settings, make_text_pdf, monkeypatch):
    from aktenarchiv.archive.sqlite import SqliteBackend

    pages = [[f"Satzung über die Hundesteuer, Paragraph {p}.{i}, Vorgang {p * 7919 + i * 104729}"
              for i in range(30)] for p in range(4)]
    make_text_pdf("eingang/satzung.pdf", *pages)
    connect = SqliteBackend._connect

    def small_disk(self):
        connect(self)
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(SqliteBackend, "_connect", small_disk)
    result = cli("ingest", tmp_path / "eingang")
    assert result.exit_code == 5, result.output
    assert "disk is full" in result.output and "Traceback" not in result.output

    monkeypatch.setattr(SqliteBackend, "_connect", connect)
    assert cli("ingest", tmp_path / "eingang").exit_code == 0
    assert json.loads(cli("search", "Hundesteuer", "--json").stdout)[0]["title"] == "satzung"
    assert cli("verify").exit_code == 0


def test_a_full_disk_reads_the_same_for_files_and_sqlite(tmp_path):
    import errno
    import sqlite3

    from aktenarchiv.errors import StorageFullError, storage_error

    db = sqlite3.connect(tmp_path / "klein.sqlite")
    db.execute("CREATE TABLE t (x)")
    db.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.Error) as full_db:
        db.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 100)
    db.close()
    from_sqlite = storage_error(tmp_path, "journal", full_db.value)
    from_files = storage_error(tmp_path, "journal", OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    assert isinstance(from_sqlite, StorageFullError) and isinstance(from_files, StorageFullError)
    assert from_sqlite.message == from_files.message and "the disk is full" in from_files.message
    assert from_files.exit_code == 5


# -- verify during an ingest ---------------------------------------------------------------

def test_verify_ignores_objects_being_written(settings):
    store = ArchiveStore(settings.archive_dir)
    objects = settings.archive_dir / "objects" / "ab"
    objects.mkdir(parents=True)
    (objects / ("ab" * 32 + ".part")).write_bytes(b"halb")
    (objects / ("ab" * 31 + "cd")).write_bytes(b"gleich kommt das Manifest")
    future = time.time() + 60  # written after the check began
    os.utime(objects / ("ab" * 31 + "cd"), (future, future))
    assert store.verify().ok
    old = objects / ("ab" * 31 + "ef")
    old.write_bytes(b"verwaist")
    os.utime(old, (time.time() - 3600,) * 2)
    assert store.verify().orphaned == [f"objects/ab/{old.name}"]


# -- all of it at once ---------------------------------------------------------------------

@pytest.mark.slow
def test_hostile_batch_mixed_with_good_scans(tmp_path, make_scan, settings):
    archive = settings.archive_dir
    folder = tmp_path / "eingang"
    private = tmp_path / "privat"
    private.mkdir()
    (private / "personal.pdf").write_bytes(SECRET)
    (private / "personal.pdf").chmod(0o600)
    make_scan("bauantrag.png", ["Bauantrag für die Müllerstraße 12", "Eingang bestätigt"], folder=folder)
    make_scan("unterordner/rechnung.png", ["Rechnung Nr. 2024-17", "Betrag 123,45 Euro"], folder=folder)
    make_scan(BAD_NAME, ["Widerspruch gegen den Bescheid", "vom 5. März 2024"], folder=folder)
    os.mkfifo(folder / "rohr.pdf")
    (folder / "nach_aussen.pdf").symlink_to(private / "personal.pdf")
    (folder / "innen.png").symlink_to("unterordner/rechnung.png")
    (folder / ("L" * 251 + ".pdf")).write_bytes(b"%PDF-1.4\n1 0 obj kaputt")
    (folder / "leer.tif").write_bytes(b"")
    (folder / "kaputt.jpg").write_bytes(b"\xff\xd8\xff\xe0 kein Bild")
    before = snapshot(tmp_path, archive)

    result = akte(archive, "ingest", folder, "--json")
    assert result.returncode == 4, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    outcomes = {Path(o["path"]).name: o for o in json.loads(result.stdout)["outcomes"]}
    archived = sorted(name for name, o in outcomes.items() if o["status"] == "archived")
    # The symlink inside the folder is read: it and its target are one document, archived once.
    assert archived == sorted(["bauantrag.png", "innen.png", "scan\\xff\\xfe.png"])
    assert outcomes["rechnung.png"]["status"] == "duplicate"
    for name in ("rohr.pdf", "nach_aussen.pdf", "L" * 251 + ".pdf", "leer.tif", "kaputt.jpg"):
        assert outcomes[name]["status"] == "quarantined" and outcomes[name]["reason"], name
    assert len(outcomes) == 9
    assert len(list(ArchiveStore(archive).record_ids())) == 3

    verify = akte(archive, "verify")
    assert verify.returncode == 0, verify.stdout.decode() + verify.stderr.decode()
    again = akte(archive, "ingest", folder, "--json")
    assert again.returncode == 4 and b"Traceback" not in again.stderr
    assert len(list(ArchiveStore(archive).record_ids())) == 3
    assert snapshot(tmp_path, archive) == before  # nothing outside the archive created or changed
    assert SECRET not in archive_bytes(archive)
