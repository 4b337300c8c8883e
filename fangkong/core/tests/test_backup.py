"""`fangkong backup` and `fangkong restore-check`: the round trip on PostgreSQL (backup → restore-check ok),
a changed row or a damaged file reported as a mismatch with a non-zero exit, and SQLite's clear refusal."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections

from fangkong.core.backup import TableStats, compare, connect, manifest_path, table_stats
from fangkong.people.models import Resident

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump backs up PostgreSQL")


def run_restore_check(path) -> tuple[int, dict]:
    out = io.StringIO()
    code = 0
    try:
        call_command("restore-check", str(path), stdout=out)
    except SystemExit as exc:
        code = int(exc.code or 0)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1, out.getvalue()  # one JSON line
    return code, json.loads(lines[0])


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_check_is_ok_and_a_changed_table_is_reported(city, tmp_path):
    dump = tmp_path / "nightly.dump"
    out = io.StringIO()
    call_command("backup", output=str(dump), stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert dump.is_file() and manifest_path(dump).is_file()
    assert not list(tmp_path.glob("*.partial"))
    manifest = json.loads(manifest_path(dump).read_text())
    residents = Resident.objects.count()
    assert residents > 0
    assert manifest["tables"]["public.people_resident"]["rows"] == residents
    assert summary["rows"] == sum(t["rows"] for t in manifest["tables"].values())

    code, report = run_restore_check(dump)
    assert code == 0, report
    assert report["ok"] is True and report["mismatches"] == []
    assert report["tables"] == len(manifest["tables"]) and report["rows"] == summary["rows"]
    assert not [name for (name,) in connection.cursor().execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s", ["%restorecheck%"]).fetchall()]

    # The live database moves on: one name changes. A manifest describing that state (as if the dump had
    # lost the change) no longer matches the restore, on that table only, by its checksum (same row count).
    person = Resident.objects.order_by("pk").first()
    person.name = person.name + "甲"
    person.save(update_fields=["name"])
    with connect(connections[DEFAULT_DB_ALIAS].settings_dict) as conn:
        live = table_stats(conn)
    assert live["public.people_resident"].rows == residents
    assert live["public.people_resident"].checksum != manifest["tables"]["public.people_resident"]["checksum"]
    manifest["tables"]["public.people_resident"]["checksum"] = live["public.people_resident"].checksum
    manifest["tables"]["public.areas_area"]["rows"] += 1  # and a row the dump lacks
    manifest_path(dump).write_text(json.dumps(manifest))
    code, report = run_restore_check(dump)
    assert code == 1 and report["ok"] is False
    assert {(m["table"], m["problem"]) for m in report["mismatches"]} == {
        ("public.people_resident", "checksum differs"), ("public.areas_area", "rows differ")}


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_damaged_dump_is_a_mismatch_or_a_failed_restore(tmp_path):
    dump = tmp_path / "b.dump"
    call_command("backup", output=str(dump), stdout=io.StringIO())
    data = bytearray(dump.read_bytes())
    data[-10] ^= 0xFF
    dump.write_bytes(bytes(data))
    try:
        code, report = run_restore_check(dump)
    except CommandError as exc:  # pg_restore itself may refuse the damaged archive
        assert "pg_restore failed" in str(exc)
    else:
        assert code == 1 and report["ok"] is False
        assert any("SHA-256" in m["problem"] for m in report["mismatches"])


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_restore_check_needs_the_manifest(tmp_path):
    dump = tmp_path / "b.dump"
    call_command("backup", output=str(dump), stdout=io.StringIO())
    manifest_path(dump).unlink()
    with pytest.raises(CommandError, match="manifest"):
        call_command("restore-check", str(dump), stdout=io.StringIO())


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_keep_prunes_the_oldest_default_named_backups(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path
    for stamp in ("20200101T000000Z", "20200102T000000Z"):
        (tmp_path / f"fangkong-{stamp}.dump").write_bytes(b"old")
        (tmp_path / f"fangkong-{stamp}.dump.manifest.json").write_text("{}")
    (tmp_path / "other.dump").write_bytes(b"not ours")
    out = io.StringIO()
    call_command("backup", keep=2, stdout=out)
    summary = json.loads(out.getvalue().strip())
    code, report = run_restore_check(tmp_path)  # a directory: its newest backup, the one just written
    assert code == 0 and report["ok"] and report["file"] == summary["file"]
    assert summary["removed"] == ["fangkong-20200101T000000Z.dump"]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len([n for n in names if n.startswith("fangkong-") and n.endswith(".dump")]) == 2
    assert "other.dump" in names and "fangkong-20200101T000000Z.dump.manifest.json" not in names


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite refusal")
@pytest.mark.django_db
def test_on_sqlite_backup_says_how_to_copy_the_file(tmp_path):
    with pytest.raises(CommandError, match=r"sqlite3 .*\.backup"):
        call_command("backup", output=str(tmp_path / "x.dump"), stdout=io.StringIO())
    assert not (tmp_path / "x.dump").exists()


def test_compare_names_missing_extra_and_changed_tables():
    expected = {"public.a": {"rows": 1, "checksum": "1:1"}, "public.b": {"rows": 2, "checksum": "2:2"},
                "public.gone": {"rows": 0, "checksum": "0:0"}}
    restored = {"public.a": TableStats(1, "1:1"), "public.b": TableStats(2, "2:3"), "public.new": TableStats(5, "x")}
    assert [(m["table"], m["problem"]) for m in compare(expected, restored)] == [
        ("public.b", "checksum differs"), ("public.gone", "missing from the restore"),
        ("public.new", "not in the manifest")]


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["backup", "restore-check"])
def test_through_pgbouncer_the_commands_ask_for_the_direct_database(command, settings, tmp_path):
    settings.DB_PGBOUNCER = True
    args = [str(tmp_path)] if command == "restore-check" else []
    with pytest.raises(CommandError, match="pgbouncer"):
        call_command(command, *args, stdout=io.StringIO())
