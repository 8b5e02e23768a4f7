"""Python sources that Python accepts are accepted: PEP 263 coding cookies, a UTF-8 BOM, and syntax errors
that name the newer Python a file was written for (utils/read_source.py, utils/split_sections.py)."""
import sys

import pytest

from utils.errors import SourceError
from utils.read_source import decode_source, read_source_file
from utils.split_sections import newer_syntax, split_python

RUNNING = f"Python {sys.version_info[0]}.{sys.version_info[1]}"

LATIN1_MODULE = (b'# -*- coding: latin-1 -*-\n'
                 b'"""\n'
                 b'# Caf\xe9\n'
                 b'\n'
                 b'The r\xe9sum\xe9 of a caf\xe9.\n'
                 b'"""\n'
                 b'# Price of a caf\xe9 cr\xe8me\n'
                 b'price = "\xe9"\n')


def decode_python(data: bytes):
    return decode_source(data, "pkg/mod.py", "python")


def rejected(data: bytes) -> SourceError:
    text, error = decode_python(data)
    assert text is None and isinstance(error, SourceError)
    with pytest.raises(SyntaxError):      # Python refuses it too
        compile(data, "mod.py", "exec")
    return error


def test_latin1_cookie_decodes_docstring_and_comments_with_the_right_text(tmp_path):
    (tmp_path / "mod.py").write_bytes(LATIN1_MODULE)
    compile(LATIN1_MODULE, "mod.py", "exec")  # the fixture is a file Python accepts
    source = read_source_file(tmp_path, "mod.py", "pkg")
    assert source.error is None
    assert source.text.split("\n")[7] == 'price = "é"'
    sections = split_python(source.text, source.display).sections
    docstring = next(s for s in sections if s.notes_kind == "docstring")
    assert docstring.notes == "# Café\n\nThe résumé of a café."
    comment = next(s for s in sections if s.notes_kind == "comment" and s.notes)
    assert comment.notes == "Price of a café crème"
    assert comment.code == [(8, 'price = "é"')]
    assert not any("coding" in s.notes for s in sections)   # the cookie is not prose


def test_cookie_on_line_two_below_a_shebang_is_honoured():
    data = b"#!/usr/bin/env python\n# vim: set fileencoding=latin-1 :\nname = 'caf\xe9'\n"
    compile(data, "mod.py", "exec")
    text, error = decode_python(data)
    assert error is None and text.split("\n")[2] == "name = 'café'"


def test_cookie_on_a_line_that_is_not_utf8_still_holds_as_in_python():
    data = b"# caf\xe9 -*- coding: latin-1 -*-\nname = 'caf\xe9'\n"
    compile(data, "mod.py", "exec")      # tokenize.detect_encoding refuses this; Python does not
    text, error = decode_python(data)
    assert error is None and text == "# café -*- coding: latin-1 -*-\nname = 'café'\n"


def test_cookie_below_line_two_is_ignored_and_the_file_read_as_utf8():
    data = b"x = 1\n\n# coding: latin-1\nname = 'caf\xe9'\n"
    error = rejected(data)
    assert (error.line, error.reason) == (4, "not valid UTF-8 (byte 0xe9); save the file as UTF-8")


def test_utf8_bom_is_dropped_and_the_rest_splits():
    data = b"\xef\xbb\xbf" + '"""\n# Café\n"""\nx = 1\r\n'.encode("utf-8")
    compile(data, "mod.py", "exec")
    text, error = decode_python(data)
    assert error is None and text == '"""\n# Café\n"""\nx = 1\n'
    sections = split_python(text, "mod.py").sections
    assert sections[0].notes == "# Café" and sections[0].code == [(4, "x = 1")]


def test_utf8_bom_with_a_utf8_cookie_is_accepted():
    data = b"\xef\xbb\xbf# -*- coding: utf-8 -*-\nname = 'caf\xc3\xa9'\n"
    text, error = decode_python(data)
    assert error is None and text == "# -*- coding: utf-8 -*-\nname = 'café'\n"


def test_utf8_bom_contradicting_the_cookie_is_an_error_at_the_cookie_line():
    error = rejected(b"\xef\xbb\xbf# coding: latin-1\nx = 1\n")
    assert (error.file, error.line) == ("pkg/mod.py", 1)
    assert "'latin-1'" in error.reason and "byte order mark" in error.reason


def test_unknown_cookie_names_line_one_and_the_encoding():
    error = rejected(b"# coding: nonsense\nx = 1\n")
    assert str(error) == "pkg/mod.py:1: unknown encoding 'nonsense' in the coding cookie (PEP 263)"


def test_unknown_cookie_on_line_two_names_line_two():
    error = rejected(b"#!/usr/bin/env python\n# coding: nonsense\nx = 1\n")
    assert error.line == 2 and "'nonsense'" in error.reason


def test_cookie_naming_a_codec_that_is_not_a_text_encoding_is_an_error():
    error = rejected(b"# coding: rot13\nx = 1\n")
    assert error.line == 1 and "'rot13'" in error.reason


def test_bytes_invalid_in_the_declared_encoding_name_their_line_and_the_encoding():
    error = rejected(b"# coding: ascii\nx = 1\nname = 'caf\xe9'\n")
    assert str(error) == "pkg/mod.py:3: not valid ascii (byte 0xe9), the encoding declared on line 1"


def test_bytes_invalid_in_a_declared_utf8_name_the_cookie():
    error = rejected(b"#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nname = 'caf\xe9'\n")
    assert (error.line, error.reason) == (3, "not valid utf-8 (byte 0xe9), the encoding declared on line 2")


def test_markdown_stays_utf8_whatever_it_says_about_coding():
    data = b"\xef\xbb\xbf# coding: latin-1\ncaf\xc3\xa9\n"
    text, error = decode_source(data, "pkg/notes.md", "markdown")
    assert error is None and text == "# coding: latin-1\ncafé\n"
    text, error = decode_source(b"# Notes\n\ncaf\xe9\n", "pkg/notes.md", "markdown")
    assert text is None and (error.line, error.reason) == (3, "not valid UTF-8 (byte 0xe9); save the file as UTF-8")


def test_read_source_file_decodes_markdown_as_utf8_not_by_cookie(tmp_path):
    (tmp_path / "notes.md").write_bytes(b"# coding: latin-1\n\ncaf\xc3\xa9\n")
    source = read_source_file(tmp_path, "notes.md", "")
    assert source.kind == "markdown" and source.error is None
    assert source.text == "# coding: latin-1\n\ncafé\n"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="`type X = int` parses on Python 3.12 and newer")
def test_type_alias_on_an_older_python_names_python_3_12():
    with pytest.raises(SourceError) as caught:
        split_python("import typing\ntype X = int\n", "mod.py")
    assert str(caught.value) == (f"mod.py:2: syntax error: invalid syntax (this looks like Python 3.12 syntax: "
                                 f"PEP 695 type alias; this build runs {RUNNING})")


def test_real_syntax_error_keeps_the_plain_message_and_line():
    with pytest.raises(SourceError) as caught:
        split_python("x = 1\ndef f(:\n    pass\n", "mod.py")
    assert str(caught.value) == "mod.py:2: syntax error: invalid syntax"


@pytest.mark.parametrize("line, version", [
    ("@buttons[0].clicked.connect", (3, 9)),
    ("match command.split():", (3, 10)),
    ("    case [x, y, *rest]:", (3, 10)),
    ("with (open(a) as f, open(b) as g):", (3, 10)),
    ("except* ValueError as group:", (3, 11)),
    ("def f(*args: *Ts) -> None:", (3, 11)),
    ("type Vector = list[float]", (3, 12)),
    ("def first[T](items: list[T]) -> T:", (3, 12)),
    ("class Box[T]:", (3, 12)),
    ("""greeting = f"{names["first"]}!\"""", (3, 12)),
    ("""joined = f"{'\\n'.join(lines)}\"""", (3, 12)),
    ("""text = f"{""", (3, 12)),
    ("def first[T = int](items: list[T]) -> T:", (3, 13)),
    ("except ValueError, TypeError:", (3, 14)),
    ("""print(t"Hello {name}")""", (3, 14)),
])
def test_newer_syntax_names_the_version_that_introduced_it(line, version):
    found = newer_syntax([line], running=(3, 8))
    assert found is not None and found[0] == version


@pytest.mark.parametrize("line", [
    "match = re.match(pattern, text)",
    "match: Optional[str] = None",
    "case.status = 'open'",
    "@functools.lru_cache(maxsize=None)",
    "with open(a) as f, open(b) as g:",
    "except (ValueError, TypeError) as error:",
    "kind = type(x)",
    """key = f"{row['name']}" + "\\n\"""",
    """print("can't", f(t))""",
    "# *Note:* $T - t', T - t' - 1$",
])
def test_newer_syntax_leaves_python_3_8_code_alone(line):
    assert newer_syntax([line], running=(3, 8)) is None


def test_newer_syntax_claims_only_versions_newer_than_the_running_one():
    assert newer_syntax(["type X = int"], running=(3, 11)) == ((3, 12), "PEP 695 type alias")
    assert newer_syntax(["type X = int"], running=(3, 12)) is None
    assert newer_syntax(["match command:"], running=(3, 11)) is None


def test_newer_syntax_names_the_newest_feature_a_line_needs():
    assert newer_syntax(["type Pair[T = int] = tuple[T, T]"], running=(3, 11)) == (
        (3, 13), "PEP 696 type parameter default")


def test_newer_syntax_reads_the_message_of_a_multi_line_f_string_error():
    message = "f-string expression part cannot include a backslash"
    assert newer_syntax(["'''"], message, running=(3, 11))[0] == (3, 12)
    assert newer_syntax(["'''"], message, running=(3, 12)) is None


def test_newer_syntax_finds_a_parenthesised_with_opened_above_the_failing_line():
    assert newer_syntax(["    open(a) as f,"], above=["with (", "x = 1"], running=(3, 9)) == (
        (3, 10), "parenthesised context managers")
    assert newer_syntax(["    open(a) as f,"], above=["x = 1"], running=(3, 9)) is None
