"""Hostile and broken input files: each is refused with a short message naming the file
and what to do (exit 2), never a traceback; or, where it can be, read correctly.

Every file is real, written in the test; the CLI is the real one.
"""

from __future__ import annotations

import io
import itertools
import resource
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook

from sms123_sync.cli import cli
from sms123_sync.errors import InputError, MappingError
from sms123_sync.mapping.desired import DesiredResult
from sms123_sync.mapping.model import MAX_DEPTH, load_mapping, parse_mapping
from sms123_sync.mapping.pipeline import read_desired, read_plannable
from sms123_sync.reconcile.plan import PlanOptions
from sms123_sync.reconcile.sync import make_plan
from sms123_sync.sources import read_source
from sms123_sync.sources.workbook import MAX_UNZIPPED_BYTES
from sms123_sync.text import printable

MAPPING = "fields: {numero: Tel, nom: Nom}\ngroups: {column: G}\n"
ROWS = "Tel;Nom;G\n0612345678;Martin;A\n0698765432;Payet;B\n"


def _files(tmp: Path, rows: str = ROWS, mapping: str = MAPPING) -> tuple[Path, Path]:
    source, mapping_path = tmp / "export.csv", tmp / "mapping.yaml"
    source.write_text(rows, encoding="utf-8")
    mapping_path.write_text(mapping, encoding="utf-8")
    return source, mapping_path


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _refused(result: Result, path: Path, *words: str) -> str:
    """The output of a run refused with exit 2, naming ``path``, saying ``words``, no trace."""
    output = result.output
    assert result.exit_code == 2, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    assert str(path) in output
    for word in words:
        assert word in output, (word, output)
    assert not any(ord(c) < 0x20 and c != "\n" for c in output), repr(output)  # no raw control byte
    return output


def _plan(tmp: Path, source: Path, mapping: Path) -> Result:
    return _run("plan", source, "-m", mapping, "--state", tmp / "state.sqlite")


# 1. Paths that are not a readable export or mapping


def test_missing_export_is_an_input_error_for_plan_and_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _, mapping = _files(tmp_path)
    missing = tmp_path / "missing.csv"
    _refused(_plan(tmp_path, missing, mapping), missing, "no such file")
    sync = _run("sync", missing, "-m", mapping, "--state", tmp_path / "state.sqlite", "--sandbox", "--yes")
    _refused(sync, missing, "no such file")
    with pytest.raises(InputError, match="no such file"):
        make_plan(missing, mapping, tmp_path / "state.sqlite", PlanOptions())
    source, _ = _files(tmp_path)
    _refused(_plan(tmp_path, source, tmp_path / "nope.yaml"), tmp_path / "nope.yaml", "no such file")


def test_a_directory_given_as_export_or_mapping(tmp_path: Path) -> None:
    source, mapping = _files(tmp_path)
    folder = tmp_path / "exports.csv"
    folder.mkdir()
    for command in ("plan", "validate"):
        args = [command, folder, "-m", mapping] + (["--state", tmp_path / "s.sqlite"] if command == "plan" else [])
        _refused(_run(*args), folder, "is a directory")
    folder_yaml = tmp_path / "mapping.d"
    folder_yaml.mkdir()
    _refused(_run("validate", source, "-m", folder_yaml), folder_yaml, "is a directory")


def test_binary_file_named_csv(tmp_path: Path) -> None:
    _, mapping = _files(tmp_path)
    binary = tmp_path / "export.csv"
    binary.write_bytes(bytes(range(256)) * 64)
    _refused(_run("validate", binary, "-m", mapping), binary, "binary file", "export the contacts as CSV")
    _refused(_plan(tmp_path, binary, mapping), binary, "binary file")
    workbook = tmp_path / "renamed.csv"
    Workbook().save(workbook)  # an .xlsx saved under a .csv name
    _refused(_run("validate", workbook, "-m", mapping), workbook, "zip archive", ".xlsx")


def test_state_import_of_a_binary_file(tmp_path: Path) -> None:
    binary = tmp_path / "members.csv"
    binary.write_bytes(b"\x00\x01\x02garbage\xff\xfe\x00" * 500)
    state = tmp_path / "state.sqlite"
    _refused(_run("state", "import", binary, "--state", state, "--group", "G"), binary, "binary file")
    folder = tmp_path / "members"
    folder.mkdir()
    _refused(_run("state", "import", folder, "--state", state, "--group", "G"), folder, "is a directory")


def test_mapping_saved_in_latin1_names_the_line_and_byte(tmp_path: Path) -> None:
    source, _ = _files(tmp_path)
    mapping = tmp_path / "latin1.yaml"
    mapping.write_bytes(
        "# Export du CRM\nfields: {numero: Tel, nom: Nom}  # Société\ngroups: {column: G}\n".encode("latin-1")
    )
    output = _refused(_run("validate", source, "-m", mapping), mapping, "line 2", "0xe9", "save the mapping as UTF-8")
    assert "\\xe9" not in output  # named as a byte, not as a decoding trace
    utf16 = tmp_path / "utf16.yaml"
    utf16.write_bytes(MAPPING.encode("utf-16"))
    _refused(_run("validate", source, "-m", utf16), utf16, "UTF-16", "save the mapping as UTF-8")


@pytest.mark.parametrize(
    "text",
    [
        "fields: " + "[" * 5000 + "]" * 5000 + "\n",
        "".join("  " * i + f"k{i}:\n" for i in range(2000)) + "  " * 2000 + "x\n",
        "fields: {numero: Tel, nom: " + "{a: " * 30 + "b" + "}" * 30 + "}\ngroups: {column: G}\n",
    ],
    ids=["flow", "block", "just-over"],
)
def test_deeply_nested_yaml_is_refused(tmp_path: Path, text: str) -> None:
    source, _ = _files(tmp_path)
    mapping = tmp_path / "deep.yaml"
    mapping.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    _refused(_run("validate", source, "-m", mapping), mapping, f"more than {MAX_DEPTH} levels")
    assert time.perf_counter() - started < 2


def _laughs(levels: int) -> str:
    """A billion-laughs mapping: each level names the one below nine times."""
    names = [f"l{i}" for i in range(levels + 1)]
    lines = [f"{names[0]}: &{names[0]} [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{n}: &{n} [{', '.join(['*' + p] * 9)}]" for p, n in itertools.pairwise(names)]
    return "\n".join(lines) + f"\nfields: {{numero: Tel, nom: *{names[-1]}}}\ngroups: {{column: G}}\n"


@pytest.mark.parametrize(("levels", "says"), [(8, "fields.nom: Input should be"), (12, "more than 100 aliases")])
def test_yaml_bombs_and_python_tags_stay_refused(tmp_path: Path, levels: int, says: str) -> None:
    started = time.perf_counter()
    with pytest.raises(MappingError, match=says):
        parse_mapping(_laughs(levels))
    assert time.perf_counter() - started < 2
    source, _ = _files(tmp_path)
    mapping = tmp_path / "tag.yaml"
    mapping.write_text("fields: !!python/object/apply:os.system ['echo pwned']\ngroups: {column: G}\n")
    _refused(_run("validate", source, "-m", mapping), mapping, "not valid YAML")


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("{Nom", "expected '}'"),
        ("{{Nom}}", "single braces: {Nom}"),
        ("Nom}", "Single '}'"),
        ("{}", "empty braces"),
        ("{Nom!r}", "write {Nom}"),
        ("{Nom:>5}", "write {Nom}"),
    ],
)
def test_broken_templates_are_mapping_errors(tmp_path: Path, template: str, says: str) -> None:
    mapping_text = f"fields:\n  numero: Tel\n  nom: {{template: '{template}'}}\ngroups: {{column: G}}\n"
    source, mapping = _files(tmp_path, mapping=mapping_text)
    _refused(_run("validate", source, "-m", mapping), mapping, "line 3", "fields.nom.template", says)


def test_literal_braces_around_a_column_still_work(tmp_path: Path) -> None:
    mapping_text = "fields: {numero: Tel, nom: {template: '{{{Nom}}} {{'}}\ngroups: {column: G}\n"
    source, mapping = _files(tmp_path, mapping=mapping_text)
    result = read_desired(source, mapping)
    assert result.state.contacts["nom"].tolist() == ["{Martin} {", "{Payet} {"]


def test_duplicate_keys_in_the_mapping(tmp_path: Path) -> None:
    text = "fields:\n  numero: Tel\n  nom: Nom\n  nom: Prenom\ngroups: {column: G}\ngroups: {always: [X]}\n"
    source, mapping = _files(tmp_path, mapping=text)
    output = _refused(_run("validate", source, "-m", mapping), mapping, "2 problems")
    assert "line 4: key 'nom' appears twice in one mapping (first on line 3)" in output
    assert "line 6: key 'groups' appears twice in one mapping (first on line 5)" in output


def test_a_backtracking_regex_is_refused_at_load(tmp_path: Path) -> None:
    text = MAPPING + "filter:\n  - {column: Nom, matches: '^(?=a)(a+)+$'}\n  - {column: Nom, matches: '(a)\\1'}\n"
    source, mapping = _files(tmp_path, rows="Tel;Nom;G\n0612345678;" + "a" * 30 + ";A\n", mapping=text)
    started = time.perf_counter()
    output = _refused(_run("validate", source, "-m", mapping), mapping, "2 problems", "RE2", "look-ahead")
    assert time.perf_counter() - started < 2
    assert "'^(?=a)(a+)+$'" in output and "line 4" in output and "line 5" in output
    with pytest.raises(MappingError) as caught:
        load_mapping(mapping)
    assert len(caught.value.problems) == 2


# 2. Workbooks that would unzip to gigabytes


def _zip(path: Path, members: list[tuple[str, bytes, int, int, int]]) -> None:
    """A zip written field by field: (name, raw data, method, crc, declared size) per
    member, so a test can store a deflate stream built by hand, or declare a false size."""
    out = io.BytesIO()
    central = []
    for name, data, method, crc, size in members:
        offset = out.tell()
        encoded = name.encode()
        fields = (20, 0, method, 0, 0x21, crc, len(data), size, len(encoded), 0)
        out.write(b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", *fields) + encoded + data)
        entry = (20, 20, 0, method, 0, 0x21, crc, len(data), size, len(encoded), 0, 0, 0, 0, 0, offset)
        central.append(b"PK\x01\x02" + struct.pack("<HHHHHHIIIHHHHHII", *entry) + encoded)
    start = out.tell()
    directory = b"".join(central)
    out.write(
        directory + b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(members), len(members), len(directory), start, 0)
    )
    path.write_bytes(out.getvalue())


def _bomb_xlsx(path: Path, padding_mb: int, declared: int | None = None) -> int:
    """A real workbook whose sheet carries ``padding_mb`` MB of blank space in its
    ``<sheetData`` tag: a few hundred KB on disk. Returns the sheet's true unzipped size."""
    workbook = Workbook()
    rows = workbook.active
    assert rows is not None
    rows.append(["Tel", "Nom", "G"])
    rows.append(["0612345678", "Martin", "A"])
    workbook.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    head, tail = parts[sheet].split(b"<sheetData", 1)
    head += b"<sheetData"
    chunk = b" " * (1 << 20)
    # After a full flush the deflater forgets its history, so the same 1 MB always
    # compresses to the same bytes: the stream is built by repetition, in no time.
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = deflater.compress(head) + deflater.flush(zlib.Z_FULL_FLUSH)
    block = deflater.compress(chunk) + deflater.flush(zlib.Z_FULL_FLUSH)
    stream = first + block * padding_mb + deflater.compress(tail) + deflater.flush()
    crc = zlib.crc32(head)
    for _ in range(padding_mb):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + padding_mb * len(chunk) + len(tail)
    members = [(name, zlib.compress(data)[2:-4], 8, zlib.crc32(data), len(data)) for name, data in parts.items()]
    members = [m if m[0] != sheet else (sheet, stream, 8, crc, size if declared is None else declared) for m in members]
    _zip(path, members)
    return size


def test_workbook_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    bomb = tmp_path / "export.xlsx"
    unzipped = _bomb_xlsx(bomb, MAX_UNZIPPED_BYTES // 2**20 + 64)
    assert bomb.stat().st_size < 2 * 2**20 and unzipped > MAX_UNZIPPED_BYTES
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    _refused(_run("validate", bomb, "-m", mapping), bomb, "would unzip to", "512 MB", "export the contacts as CSV")
    assert time.perf_counter() - started < 2
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mb < 100


def test_workbook_compressed_like_a_bomb_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "export.xlsx"
    _bomb_xlsx(bomb, 64)  # under the size limit, but 1000 times smaller zipped than unzipped
    with pytest.raises(InputError, match=r"sheet1.xml' would unzip \d+ times its size \(the limit is 400\)"):
        read_source(bomb)


def test_workbook_that_lies_about_its_size_is_measured(tmp_path: Path) -> None:
    bomb = tmp_path / "export.xlsx"
    _bomb_xlsx(bomb, MAX_UNZIPPED_BYTES // 2**20 + 64, declared=10_000)
    started = time.perf_counter()
    with pytest.raises(InputError, match="claims 0 MB: a forged zip") as caught:
        read_source(bomb)
    assert str(bomb) in str(caught.value)
    assert time.perf_counter() - started < 5


def test_a_padded_workbook_under_the_limit_is_read(tmp_path: Path) -> None:
    padded = tmp_path / "padded.xlsx"
    _bomb_xlsx(padded, 2)  # 2 MB of blank space: inspected, then read as usual
    assert read_source(padded).frame.to_dict("records") == [{"Tel": "0612345678", "Nom": "Martin", "G": "A"}]


# 3. Encodings and control bytes


def test_utf16_export_with_bom_is_read(tmp_path: Path) -> None:
    # Excel's "Unicode text": UTF-16LE with a byte-order mark, tab between cells, CRLF.
    source = tmp_path / "export.txt"
    text = "Tel\tNom\tG\r\n06 12 34 56 78\tHélène Noël\tClients\r\n0698765432\tPayet\tClients\r\n"
    source.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    table = read_source(source)
    assert (table.encoding, table.delimiter, table.columns) == ("utf-16", "\t", ["Tel", "Nom", "G"])
    result = read_desired(source, mapping)
    assert result.state.contacts["nom"].tolist() == ["Hélène Noël", "Payet"]
    assert result.state.groups == ["Clients"]
    shown = _run("validate", source, "-m", mapping)
    assert shown.exit_code == 0 and "\x00" not in shown.output, shown.output


def test_messages_show_control_bytes_escaped(tmp_path: Path) -> None:
    _, mapping = _files(tmp_path)
    source = tmp_path / "export.csv"
    source.write_text("Tel;Nom\x1b[2J;Nom\x1b[2J;G\n0612345678;a;b;A\n", encoding="utf-8")
    output = _refused(_run("validate", source, "-m", mapping), source, "appears twice")
    assert "\\x1b[2J" in output
    assert printable("a\u202eb\x00c" + "x" * 500, 10) == "a\\u202eb\\x00cxxxxx…"


# 4. A cell larger than Arrow's read block


def test_a_two_megabyte_cell_is_read(tmp_path: Path) -> None:
    # cp1252 goes through a transcoder, where a row over 1 MB used to straddle two blocks.
    big = "é" * 2_000_000
    rows = "Tel;Nom;G\n" + "".join(f"06123{i:05d};Martin;A\n" for i in range(500))
    rows += f"0698765432;{big};B\n" + "0611111111;Payet;A\n"
    source = tmp_path / "export.csv"
    source.write_bytes(rows.replace("\n", "\r\n").encode("cp1252"))
    table = read_source(source)
    assert len(table.frame) == 502 and table.frame["Nom"][500] == big
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    shown = _run("validate", source, "-m", mapping)
    assert shown.exit_code == 0, shown.output[:500]
    assert "too-long" in shown.output and len(shown.output) < 5000  # the cell is quoted cut short


# 6. Invisible characters in group names


def test_invisible_characters_do_not_make_a_second_group(tmp_path: Path) -> None:
    cells = ["G0", "\ufeffG0", "G\u200b0", "\u202eG0", "G0\u2060", "\u200dG0\u200c", " G0 \u200e"]
    rows = "Tel;Nom;G\n" + "".join(f"06123456{i:02d};\u200bNom{i};{cell}\n" for i, cell in enumerate(cells))
    mapping_text = "fields: {numero: Tel, nom: Nom}\ngroups: {column: G, always: ['\ufeffTous']}\n"
    source, mapping = _files(tmp_path, rows=rows, mapping=mapping_text)
    result = read_desired(source, mapping)
    assert result.state.groups == ["G0", "Tous"]
    assert len(result.state.memberships) == 2 * len(cells)
    assert result.state.contacts["nom"].tolist() == [f"Nom{i}" for i in range(len(cells))]


# 7. An export whose every row is rejected


def test_first_run_with_every_row_rejected_says_nothing_was_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rows = "Tel;Nom;G\n12;A;G0\n13;B;G0\n0612345678;C;\n"
    source, mapping = _files(tmp_path, rows=rows)
    _refused(
        _plan(tmp_path, source, mapping), source, "nothing usable", "all 3 data rows", "2 invalid-phone", "1 no-group"
    )
    state = tmp_path / "state.sqlite"
    sync = _run("sync", source, "-m", mapping, "--state", state, "--sandbox", "--yes", "--allow-empty")
    _refused(sync, source, "nothing usable")
    assert not (tmp_path / ".sms123-sync" / "sandbox.sqlite").exists()  # refused before any call
    with pytest.raises(InputError, match="nothing usable"):
        read_plannable(source, mapping)
    listed = _run("validate", source, "-m", mapping)  # validate still lists the rejects
    assert listed.exit_code == 0 and "invalid-phone" in listed.output


def test_an_export_without_data_rows_keeps_the_empty_guard(tmp_path: Path) -> None:
    source, mapping = _files(tmp_path, rows="Tel;Nom;G\n")
    result: DesiredResult = read_plannable(source, mapping)
    assert result.stats.rows_read == 0
    planned = _plan(tmp_path, source, mapping)
    assert planned.exit_code == 0, planned.output
    filtered = MAPPING + "filter:\n  - {column: Nom, equals: Personne}\n"
    source, mapping = _files(tmp_path, mapping=filtered)
    assert read_plannable(source, mapping).stats.filtered_out == 2


def test_state_import_quotes_a_bad_number_cut_short(tmp_path: Path) -> None:
    members = tmp_path / "members.csv"
    members.write_text("numero;groupe\n" + "9" * 5000 + ";G\n", encoding="utf-8")
    result = _run("state", "import", members, "--state", tmp_path / "state.sqlite")
    output = _refused(result, members, "row 2, column 'numero'", "not a valid phone number")
    assert "9" * 120 + "'…" in output and len(output) < 1000
