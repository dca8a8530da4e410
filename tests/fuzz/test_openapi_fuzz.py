"""Property-based fuzzing of every service from its own OpenAPI document (schemathesis), as a
visitor, a patron and a librarian: no 5xx, responses as documented, and no schema-violating input
accepted. Runs last (see pytest.ini): as a librarian it really adds, changes and deletes data.

`positive_data_acceptance` is left out on purpose: some rules cannot be written in JSON Schema
(an ISBN's checksum, a password that is not the username, a year not in the future), so valid-looking
input is rightly refused. FUZZ_EXAMPLES and FUZZ_SEED (`make fuzz`) make the run longer or new.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from library_common.testing import register_patron

pytestmark = pytest.mark.fuzz
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "25")
SEED = os.environ.get("FUZZ_SEED", "20261125")
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture
def credentials(stack):
    """Fresh tokens for each run: the fuzzer calls POST /logout too, which rightly ends them."""
    username = stack.approve(register_patron(stack.users, "fuzzer", "fuzzing-password"))
    return {
        "anonymous": {},
        "patron": stack.login(username, "fuzzing-password"),
        "librarian": stack.login(*stack.librarian),
    }


@pytest.mark.parametrize("role", ["anonymous", "patron", "librarian"])
@pytest.mark.parametrize("service", ["books", "borrows", "users", "notifications"])
def test_the_api_holds_its_contract_under_generated_input(stack, credentials, service, role):
    command = [shutil.which("st", path=os.path.dirname(os.sys.executable)) or "st", "--config-file", str(CONFIG), "run",
               f"{stack.url[service]}/openapi.json", "--max-examples", EXAMPLES, "--seed", SEED,
               "--exclude-checks", "positive_data_acceptance", "--request-timeout", "10",
               # Failed logins are throttled per client: the fuzzer gets an address of its own.
               "-H", "X-Forwarded-For: 198.51.100.250"]
    for name, value in credentials[role].items():
        command += ["-H", f"{name}: {value}"]

    result = subprocess.run(command, capture_output=True, text=True, timeout=600)

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
