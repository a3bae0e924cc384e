import pytest

from models.routing import RoutePolicy, classify


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is the atomic number of carbon?", "simple_factual"),
        ("Why does ice float on water?", "complex_reasoning"),
        ("Compare TCP and UDP", "complex_reasoning"),
        ("Quiz me on the periodic table", "practice"),
        ("Give me three practice questions about nouns", "practice"),
        ("What does our syllabus say about recursion?", "curriculum"),
    ],
)
def test_questions_are_classified_by_their_intent(question: str, expected: str):
    assert classify(question).query_class == expected


def test_the_policy_chain_skips_backends_that_are_not_deployed():
    policy = RoutePolicy(routes={"complex_reasoning": ["openai-strong", "local"]})
    assert policy.chain("complex_reasoning", ["local"]) == ["local"]
    assert policy.chain("complex_reasoning", ["openai-strong", "local"]) == [
        "openai-strong",
        "local",
    ]


def test_a_class_with_no_deployed_backend_falls_back_to_the_default_chain():
    policy = RoutePolicy(routes={"practice": ["generator"]}, default=["local"])
    assert policy.chain("practice", ["local"]) == ["local"]
