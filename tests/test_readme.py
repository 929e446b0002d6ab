"""The README is the first thing a platform team reads: keep its promises checkable."""

import re

from assistant.settings import Settings
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table():
    documented = set(re.findall(r"^\| `ASSISTANT_([A-Z_]+)`", README, re.MULTILINE))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields - documented == set(), "settings missing from the README table"
    assert documented - fields - {"CONFIG"} == set(), "README documents settings that do not exist"


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    block = re.search(r"```bash\n(.*?)```", README, re.DOTALL)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands[:2] == ["make run", "make test"]
    assert "make test" in (REPO / ".ci" / "run").read_text()
