"""The text email's description column: wrapped as Jinja's wordwrap filter wrapped it."""

from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment

from workers.render import description_lines

# What claim.txt did before the column was wrapped in Python (workers/render.py): the
# filter, then the text split at its newlines.
_FILTER = Environment().from_string(
    '{{ d|wordwrap(22, break_long_words=False, wrapstring="\\n", break_on_hyphens=False) }}'
)


def _as_the_filter_wrapped(description: str) -> tuple[str, ...]:
    return tuple(_FILTER.render(d=description).split("\n"))


WORDS = st.sampled_from(
    [
        "Concrete",
        "works",
        "—",
        "level-3",
        "slab",
        "",
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\u2028",
        "Supercalifragilisticexpialidocious-formwork",
        "supply,",
        "install",
        "é",
        "x" * 22,
    ]
)


@given(st.lists(WORDS, max_size=12).map(" ".join) | st.text(max_size=80))
def test_the_column_is_wrapped_as_the_filter_wrapped_it(description):
    assert description_lines(description) == _as_the_filter_wrapped(description)


def test_a_long_description_takes_lines_of_22_and_keeps_long_words_whole():
    assert description_lines("Trade package 17: supply, install, test and commission") == (
        "Trade package 17:",
        "supply, install, test",
        "and commission",
    )
    assert description_lines("Waterproofing-membranes-and-sealants north") == (
        "Waterproofing-membranes-and-sealants",
        "north",
    )
    assert description_lines("") == ("",)
