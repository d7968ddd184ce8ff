"""The policy file: the shipped default, a full example, and errors that say where."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal

import pytest

from routing.policy import (
    Policy,
    PolicyError,
    default_policy_text,
    load_default_policy,
    load_policy,
    parse_policy_text,
    write_default_policy,
)

FULL = """
version = 1

[defaults]
target = "cloud"
cloud_provider = "openai"
cloud_model = "gpt-4o-mini"
onprem_provider = "office-vllm"

[sensitivity]
target = "onprem"
forced_cloud = "refuse"
custom_terms = ["Northwind Biologics", "Project Halyard", "  "]

[failover]
target = "onprem"
max_retries = 4
timeout_s = 12.5

[capacity]
enabled = true
max_local_queue = 2
target = "cloud"

[budget]
daily_usd = 5.10
monthly_usd = 50

[budget.providers.openai]
daily_usd = 2.00

[escalation]
enabled = true
target = "groq"
model = "llama-3.3-70b-versatile"
quantile = 0.05
history_percentile = 15
min_history = 10
fallback_threshold = -4.5
min_tokens = 4

[[rules]]
name = "code"
task = ["Code", "review"]
target = "office-vllm"

[[rules]]
name = "long documents"
min_chars = 12000
contains_any = ["Summarise", "summarize"]
local_model = ["smollm*"]
target = "cloud"
provider = "openai"
model = "gpt-4.1-mini"
"""


def test_the_shipped_default_is_the_built_in_policy() -> None:
    policy = load_default_policy()
    assert policy == Policy(source=policy.source)
    assert policy.defaults.target == "local" and policy.sensitivity.target == "local"
    assert not policy.escalation.enabled and not policy.capacity.enabled
    # Every commented example in the default is itself valid once uncommented.
    example_line = re.compile(r"# ([a-z_]+ = |\[)")
    uncommented = "\n".join(line[2:] if example_line.match(line) else line
                            for line in default_policy_text().splitlines())
    assert tomllib.loads(uncommented)  # still TOML
    example = parse_policy_text(uncommented, "uncommented default")
    assert [r.name for r in example.rules] == ["long documents to the big model",
                                               "code stays on the office server"]
    assert example.budget.total.daily_usd == Decimal("5.00")


def test_a_full_policy_reads_every_setting() -> None:
    policy = parse_policy_text(FULL, "policy.toml")
    assert policy.defaults.cloud_provider == "openai" and policy.defaults.target == "cloud"
    assert policy.sensitivity.custom_terms == ("Northwind Biologics", "Project Halyard")
    assert policy.sensitivity.forced_cloud == "refuse"
    assert (policy.failover.target, policy.failover.max_retries,
            policy.failover.timeout_s) == ("onprem", 4, 12.5)
    assert policy.capacity.enabled and policy.capacity.max_local_queue == 2
    assert policy.budget.total.daily_usd == Decimal("5.10")  # exact, not 5.0999...
    assert policy.budget.total.monthly_usd == Decimal(50)
    assert policy.budget.providers["openai"].daily_usd == Decimal("2.00")
    assert policy.escalation.target == "groq" and policy.escalation.quantile == 0.05
    assert policy.escalation.fallback_threshold == -4.5
    code, long_docs = policy.rules
    assert code.when.tasks == ("code", "review")
    assert long_docs.when.matches("please SUMMARISE " + "x" * 12000, None, "smollm2-135m")
    assert not long_docs.when.matches("please summarise", None, "smollm2-135m")
    assert not long_docs.when.matches("summarise " + "x" * 12000, None, "qwen")
    assert policy.source == "policy.toml"


@pytest.mark.parametrize(("text", "message"), [
    ("version = 1\n[defaults\n", "not valid TOML"),
    ("version = 2\n", "version 2"),
    ("colour = 1\n", "unknown setting"),
    ("[defaults]\ntarrget = 'cloud'\n", r"\[defaults\]: unknown setting\(s\) tarrget"),
    ("[defaults]\ntarget = 'the moon'\n", "provider name"),
    ("[sensitivity]\ntarget = 'cloud'\n", "must be one of 'local', 'onprem'"),
    ("[sensitivity]\nforced_cloud = 'send'\n", "forced_cloud"),
    ("[sensitivity]\ncustom_terms = [1, 2]\n", "list of text"),
    ("[failover]\ntarget = 'cloud'\n", r"\[failover\] target"),
    ("[failover]\ntimeout_s = 0\n", "more than 0"),
    ("[failover]\nmax_retries = -1\n", "whole number"),
    ("[capacity]\nenabled = 'yes'\n", "true or false"),
    ("[capacity]\ntarget = 'local'\n", "somewhere other than local"),
    ("[capacity]\nmax_local_queue = 0\n", "at least 1"),
    ("[budget]\ndaily_usd = -1\n", "US dollars"),
    ("[budget]\ndaily_usd = '5'\n", "US dollars"),
    ("[budget.providers.openai]\nweekly_usd = 1\n", "weekly_usd"),
    ("[escalation]\nquantile = 1.5\n", "between 0 and 1"),
    ("[escalation]\nhistory_percentile = 0\n", "between 0 and 100"),
    ("[[rules]]\ntarget = 'cloud'\nmin_chars = 1\n", "needs a name"),
    ("[[rules]]\nname = 'x'\nmin_chars = 1\n", "needs a target"),
    ("[[rules]]\nname = 'x'\ntarget = 'cloud'\n", "no condition"),
    ("[[rules]]\nname = 'x'\ntarget = 'cloud'\nmin_chars = 1\n"
     "[[rules]]\nname = 'x'\ntarget = 'local'\nmin_chars = 2\n", "repeated: x"),
    ("[[rules]]\nname = 'x'\ntarget = 'cloud'\nwhen = 1\n", r"\[\[rules\]\] #1"),
])
def test_mistakes_are_reported_with_where_they_are(text, message) -> None:
    with pytest.raises(PolicyError, match=message) as caught:
        parse_policy_text(text, "policy.toml")
    assert "policy.toml" in str(caught.value)


def test_no_file_means_the_default_and_the_default_can_be_written(tmp_path) -> None:
    path = tmp_path / "policy.toml"
    assert load_policy(path) == load_default_policy()
    assert write_default_policy(path) is True
    assert path.read_text() == default_policy_text()
    path.write_text(path.read_text().replace('target = "local"\n', 'target = "cloud"\n', 1))
    assert write_default_policy(path) is False  # never overwrites the user's file
    assert load_policy(path).defaults.target == "cloud"
    assert load_policy(path).source == str(path)


def test_docs_show_the_shipped_default_verbatim() -> None:
    from tests.conftest import REPO_ROOT

    routing_doc = (REPO_ROOT / "docs" / "ROUTING.md").read_text(encoding="utf-8")
    assert "```toml\n" + default_policy_text() + "```" in routing_doc
