"""Section splitting on small sources: one test per rule of the splitter (utils/split_sections.py)."""
import textwrap

import pytest

from utils.errors import SourceError
from utils.split_sections import split_markdown, split_python


def split(source: str):
    return split_python(textwrap.dedent(source).lstrip("\n"), "mod.py")


def code_numbers(section):
    return [n for n, _ in section.code]


def test_module_docstring_is_first_section_and_front_matter_gives_title_and_summary():
    result = split('''
        """
        ---
        title: Adam
        summary: The Adam optimizer.
        ---

        # Adam paper
        """
        import torch
        ''')
    assert result.title == "Adam"
    assert result.summary == "The Adam optimizer."
    first = result.sections[0]
    assert first.notes_kind == "docstring"
    assert first.notes == "# Adam paper"          # front matter is not shown
    assert first.code == [(9, "import torch")]      # the imports sit beside the module docstring


def test_without_front_matter_there_is_no_title_from_the_splitter():
    result = split('''
        """
        # Heading title
        """
        ''')
    assert result.title is None and result.summary == ""
    assert result.sections[0].notes == "# Heading title"


def test_docstrings_are_never_evaluated_backslashes_reach_notes_byte_for_byte():
    # Not a raw string on purpose: evaluated, "\f" would become a form feed and "\b" a backspace.
    result = split('''
        def f():
            """Ratio $\\frac{a}{b}$ and $\\beta_1$ and \\begin{align}x\\end{align}"""
            return 1
        ''')
    assert result.sections[0].notes == r"Ratio $\frac{a}{b}$ and $\beta_1$ and \begin{align}x\end{align}"


def test_def_docstring_sits_beside_decorators_and_multi_line_signature_and_leaves_code_column():
    result = split('''
        x = 0


        @decorator
        def step(a,
                 b):
            """
            Take a step.

            Second paragraph.
            """
            return a + b
        ''')
    section = result.sections[1]
    assert section.notes_kind == "docstring"
    assert section.notes == "Take a step.\n\nSecond paragraph."
    assert section.notes_lines == [8, 9, 10]
    assert code_numbers(section) == [4, 5, 6, 12]      # docstring lines 7-11 are not in the code
    assert all('"""' not in text for _, text in section.code)


def test_class_and_method_docstrings_each_start_a_section():
    result = split('''
        class A:
            """Class notes."""

            def m(self):
                """Method notes."""
                return 1
        ''')
    assert [s.notes for s in result.sections] == ["Class notes.", "Method notes."]
    assert code_numbers(result.sections[0]) == [1]
    assert code_numbers(result.sections[1]) == [4, 6]


def test_comment_run_is_prose_for_following_code_and_bare_hash_is_paragraph_break():
    result = split('''
        # First line
        # continues.
        #
        # New paragraph with $x$.
        y = 1  # end-of-line comment stays in code
        ''')
    section = result.sections[0]
    assert section.notes_kind == "comment"
    assert section.notes == "First line\ncontinues.\n\nNew paragraph with $x$."
    assert section.notes_lines == [1, 2, 3, 4]
    assert section.code == [(5, "y = 1  # end-of-line comment stays in code")]


def test_each_comment_run_after_code_starts_a_new_section():
    result = split('''
        a = 1
        # about b
        b = 2
            # indented comment about c
        c = 3
        ''')
    assert [s.notes for s in result.sections] == ["", "about b", "indented comment about c"]
    assert [code_numbers(s) for s in result.sections] == [[1], [3], [5]]


def test_code_keeps_original_line_numbers_and_indentation():
    result = split('''
        # Notes
        def f():

            return 1
        ''')
    assert result.sections[0].code == [(2, "def f():"), (3, ""), (4, "    return 1")]


def test_empty_sections_are_dropped():
    result = split('''
        #
        #

        x = 1
        #
        ''')
    assert len(result.sections) == 1
    assert result.sections[0].code == [(4, "x = 1")]


def test_comment_inside_a_string_is_not_prose():
    result = split('''
        text = """
        # not a comment
        """
        ''')
    assert len(result.sections) == 1
    assert result.sections[0].notes == ""
    assert code_numbers(result.sections[0]) == [1, 2, 3]


def test_syntax_error_reports_file_and_line():
    with pytest.raises(SourceError) as error:
        split('''
            x = 1
            def broken(:
                pass
            ''')
    assert error.value.file == "mod.py" and error.value.line == 2
    assert str(error.value).startswith("mod.py:2: syntax error")


def test_unclosed_front_matter_reports_its_line():
    with pytest.raises(SourceError) as error:
        split('''
            """
            ---
            title: x
            """
            ''')
    assert error.value.line == 2


def test_markdown_file_is_one_prose_section_with_front_matter():
    result = split_markdown("---\ntitle: Notes\nsummary: s\n---\n\n# Notes\n\nText $a$.\n", "readme.md")
    assert result.title == "Notes"
    assert len(result.sections) == 1
    section = result.sections[0]
    assert section.notes_kind == "markdown" and section.code == []
    assert section.notes == "# Notes\n\nText $a$."
    assert section.notes_lines == [6, 7, 8]


def test_hash_lines_inside_multi_line_strings_and_f_strings_stay_code():
    result = split('''
        a = f"""
        # {1} not a comment
        """
        b = """
           # nor this
        """
        ''')
    assert len(result.sections) == 1 and result.sections[0].notes == ""
    assert code_numbers(result.sections[0]) == [1, 2, 3, 4, 5, 6]


def test_blank_line_right_after_a_docstring_leaves_the_code_column_with_it():
    result = split('''
        class A:
            """Notes."""

            x = 1

            y = 2
        ''')
    assert code_numbers(result.sections[0]) == [1, 4, 5, 6]


def test_front_matter_order_and_in_reading_order_are_read():
    result = split('''
        """
        ---
        title: Optimizers
        order: [sgd.py, adam.py]
        in_reading_order: false
        ---
        """
        ''')
    assert result.front.order == ["sgd.py", "adam.py"]
    assert result.front.in_reading_order is False
    assert split('"""\n# Plain\n"""\n').front.in_reading_order is True


@pytest.mark.parametrize('line, reason', [('order: adam.py', 'list of file names'),
                                          ('in_reading_order: maybe', 'true or false')])
def test_bad_reading_order_keys_name_their_line(line, reason):
    with pytest.raises(SourceError, match=reason) as error:
        split(f'"""\n---\ntitle: T\n{line}\n---\n"""\n')
    assert error.value.line == 4
