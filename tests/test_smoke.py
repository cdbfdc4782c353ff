from tests.conftest import Cli


def test_flow(p014: Cli) -> None:
    r = p014.ok("session", "list", "P014", "--format", "json")
    assert '"bond": 7.0' in r.stdout
