"""Every use of a library's private names, one small module per library.

alliance leans on a few Typer/Click and plotext internals because they buy measured
start-up time (benchmarks/run.py, "tricks"). Each lives here and nowhere else, and
tests/test_adapters.py checks each module's contract against the installed version it
names (`VERIFIED_WITH`): upgrading Typer or plotext means one file and one failing test.
"""
