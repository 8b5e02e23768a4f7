"""The "on this page" outline of a page (utils/prepare_page.py `page_outline`): h2/h3 headings, and each
class or function whose docstring has no heading, by its name."""
import textwrap

from utils.prepare_page import parse_page, page_outline
from utils.read_source import SourceFile


def outline_of(code: str):
    text = textwrap.dedent(code).lstrip("\n")
    return page_outline(parse_page(SourceFile(rel="opt/adam.py", display="opt/adam.py", kind="python",
                                              text=text, data=text.encode())).sections)


def test_headings_and_undocumented_definitions_make_the_outline_in_page_order():
    outline = outline_of('''
        """
        # Adam

        ## Two places for epsilon

        ### Why
        """
        import math


        class Adam:
            """The optimizer (no heading: the class name stands for it)."""

            @staticmethod
            def init_state(state):
                """Zeros."""
                pass

            def step(self):
                """
                ## Taking a step
                """
                pass


        # A comment section is no entry of the outline
        def helper():
            return 1
        ''')
    assert [(text, level) for _, text, level in outline] == [
        ("Two places for epsilon", 2), ("Why", 3), ("Adam", 2), ("init_state", 3), ("Taking a step", 2)]
    # Definitions link to their section, headings to their own anchor
    assert outline[2][0].startswith("section-") and outline[0][0] == "two-places-for-epsilon"
