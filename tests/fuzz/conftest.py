"""Print the fuzz figures (inputs and crashes) at the end of the run."""

from tests.fuzz import scale


def pytest_terminal_summary(terminalreporter):
    if scale.inputs:
        terminalreporter.write_line(scale.summary(), bold=True)
