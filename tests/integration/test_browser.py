"""The tutor's page in headless Chromium, against the same app the ingress serves (in one
process over demo-curriculum shards, a paced echo model and a real PostgreSQL): what a student
and a teacher can do with it, with a keyboard only and on a phone, and markup shown as text.

The graph's own browser tests (test_graph.py) check the same page through Ray Serve.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from playwright.sync_api import Browser, expect

from access.quotas import QuotaConfig, QuotaPolicy
from deployments.api_access import AccessConfig
from models.backend import GenerationChunk, GenerationRequest
from tests.fakes.llm import EchoSourceBackend
from tests.fakes.web_app import PacedBackend, WebApp, demo_shards, token
from tests.integration.browser import (
    PHONE,
    TutorPage,
    answer_key,
    answer_practice,
    chromium,
    finished,
    texts,
)
from tests.integration.conftest import throwaway_database

pytestmark = pytest.mark.integration

# A passage whose title and text carry markup, as a careless (or hostile) upload would.
MARKUP_DOC = {
    "id": "chemistry:zyxium",
    "subject": "chemistry",
    "title": "zyxium <img src=x onerror=\"alert('title')\">",
    "text": "Zyxium is a made-up element <script>alert('passage')</script> "
    "<img src=x onerror=\"alert('image')\"> used to test the page.",
}
CARBON = "What is the atomic number of carbon?"


@pytest.fixture(scope="module")
def page_database() -> Iterator[str]:
    """The page tests' own database: their questions must not become the warm-up questions
    of the graph that test_graph.py starts on the session's database."""
    with throwaway_database("tutor_web") as url:
        yield url


class SlipsOnPotassium(EchoSourceBackend):
    """Answers from its first source, but gets potassium's atomic number wrong, as a small
    model can: the answer check then corrects what the page has already shown."""

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        if "atomic number of potassium" not in request.messages[-1].content:
            async for chunk in super().stream(request):
                yield chunk
            return
        self.requests.append(request)
        words = re.findall(r"\S+ ?", "The atomic number of potassium is 20 [1].")
        for word in words:
            yield GenerationChunk(word)
        yield GenerationChunk("", "stop", prompt_tokens=10, completion_tokens=len(words))


@pytest.fixture(scope="module")
def backend() -> EchoSourceBackend:
    return SlipsOnPotassium()


@pytest.fixture(scope="module")
def web(page_database: str, backend: EchoSourceBackend) -> Iterator[WebApp]:
    app = WebApp(demo_shards([MARKUP_DOC]), PacedBackend(backend, 0.02), page_database).start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def tab(browser: Browser, web: WebApp) -> Iterator[TutorPage]:
    page = TutorPage(browser, web.url).open()
    yield page
    page.close()
    assert not page.problems, page.problems


def test_a_student_signs_in_and_reads_an_answer_as_it_streams_with_its_sources(
    tab: TutorPage, backend: EchoSourceBackend
):
    page = tab.page
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    tab.sign_in(token("amina", classes=("7b",)))
    expect(page.locator("#who")).to_have_text("amina (student) · 7b")
    assert page.evaluate("sessionStorage.getItem('tutor.token')").startswith("ey")
    assert "ey" not in page.url  # the token is never in the address

    turn = tab.ask(CARBON)
    answer = turn.get_by_test_id("answer-text")
    expect(answer).to_contain_text("Atomic number: 6")
    partial = [n for n in tab.streamed() if n > 0]
    assert len(set(partial)) >= 5, partial  # shown word by word, not all at the end
    expect(turn.get_by_test_id("verdict")).to_have_text("Checked against the sources")
    sources = turn.locator(".source-list > li")
    assert texts(sources.locator("summary"))[0] == "[1] carbon chemistry"
    passage = sources.first.locator(".passage")
    expect(passage).to_be_hidden()  # closed until asked for
    turn.get_by_role("button", name="Source 1: carbon").click()  # the [1] in the answer
    expect(passage).to_be_visible()
    expect(passage).to_contain_text("Carbon-14 is commonly used in radioactive dating")

    follow_up = tab.ask("And its symbol?")
    expect(follow_up.get_by_test_id("answer-text")).not_to_be_empty()
    history = [m.content for m in backend.requests[-1].messages]
    assert CARBON in history  # the follow-up went with the conversation (the same session)


def test_a_corrected_answer_replaces_what_was_shown_and_says_so(tab: TutorPage):
    tab.sign_in(token("joy", classes=("7b",)))
    turn = tab.ask("What is the atomic number of potassium?")
    answer = turn.get_by_test_id("answer-text")
    expect(turn.get_by_test_id("verdict")).to_have_text("Corrected to match the sources")
    expect(answer).to_contain_text("19")
    expect(answer).not_to_contain_text("20")  # the wrong number streamed, then was withdrawn
    assert max(tab.streamed()) >= len("The atomic number of potassium is 20")


def test_a_student_rates_an_answer_and_answers_a_practice_item(tab: TutorPage, page_database: str):
    page = tab.page
    tab.sign_in(token("bilal", classes=("7b",)))
    turn = tab.ask(CARBON)
    turn.get_by_role("button", name="Helpful", exact=True).click()
    expect(turn.get_by_role("status").first).to_have_text("Thanks: your rating was recorded.")
    expect(turn.get_by_role("button", name="Helpful", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    assert rating_of(page_database, "bilal") == 1

    turn.get_by_role("button", name="Practice this topic").click()
    quiz = tab.turns().last
    finished(quiz)
    expect(quiz.locator(".question")).to_contain_text("Quiz me on carbon")
    form = quiz.locator("form.practice")
    question = form.locator("legend").inner_text()
    key = answer_key(question)
    choices = form.get_by_role("radio")
    # Asked open, or with the key and two or three wrong choices (other entries' values of
    # the field the item asks; a code has as many as the hits on the topic give).
    assert choices.count() == 0 or 3 <= choices.count() <= 4
    answer_practice(form, key)
    result = form.get_by_test_id("practice-result")
    expect(result).to_contain_text("Correct!")
    expect(result).to_contain_text("Your practice so far: 1 right out of 1.")
    expect(result.locator(".passage")).to_contain_text("Atomic number: 6")
    if choices.count():
        expect(choices.first).to_be_disabled()  # checked once; the key is now shown
    expect(page.get_by_role("alert")).to_be_hidden()


def test_a_keyboard_alone_signs_in_asks_opens_a_source_and_practises(tab: TutorPage):
    page = tab.page
    expect(page.get_by_label("Access token")).to_be_focused()  # ready to paste into
    page.keyboard.type(token("chidi", classes=("7b",)))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your question")).to_be_focused()  # straight to asking
    page.keyboard.type("What is the symbol of potassium?")
    page.keyboard.press("Enter")
    finished(tab.turns().last)

    # Tab from the question box goes on to "Ask"; backwards, through the answer.
    reached = []
    for _ in range(12):
        page.keyboard.press("Shift+Tab")
        reached.append(tab.evaluate("document.activeElement.textContent.trim()"))
        assert tab.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    assert {"Practice this topic", "Not helpful", "Helpful", "[1]"} <= {
        r.lstrip("▲▼ ") for r in reached
    }
    while tab.evaluate("document.activeElement.textContent.trim()") != "[1]":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the citation opens its source
    expect(tab.turns().last.locator("details").first).to_have_attribute("open", "")

    while tab.evaluate("document.activeElement.textContent.trim()") != "Practice this topic":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    quiz = tab.turns().last
    finished(quiz)
    quiz.locator("form.practice input").first.wait_for()
    while not tab.evaluate("document.activeElement.matches('form.practice input')"):
        page.keyboard.press("Tab")
    if tab.evaluate("document.activeElement.type") == "radio":
        page.keyboard.press("Space")  # choose the first choice
    else:
        page.keyboard.type("Davy")  # an item with no choices: who discovered potassium
    page.keyboard.press("Enter")  # submits the form
    expect(quiz.get_by_test_id("practice-result")).to_contain_text(re.compile("Correct!|Not quite"))


def test_a_quota_reached_says_when_the_student_can_ask_again(tab: TutorPage, web: WebApp):
    tab.sign_in(token("dayo", classes=("7b",)))
    web.access.configure(
        AccessConfig(quotas=QuotaConfig(roles={"student": QuotaPolicy(burst_per_minute=1)}))
    )
    try:
        tab.ask(CARBON)
        page = tab.page
        page.get_by_label("Your question").fill("What is the symbol of gold?")
        page.get_by_label("Your question").press("Enter")
        status = page.locator("#ask-status")
        expect(status).to_contain_text("You have reached your limit of questions a minute.")
    finally:
        web.access.configure(AccessConfig())
    said = status.inner_text()
    at = re.search(r"You can ask again at (\d?\d:\d\d( [AP]M)?) \(in (\d+) seconds\)", said)
    assert at is not None, said
    assert 1 <= int(at.group(3)) <= 60
    expect(page.get_by_role("button", name="Ask")).to_be_disabled()
    expect(page.get_by_label("Your question")).to_have_value("What is the symbol of gold?")
    assert tab.turns().count() == 1  # the refused question left no empty answer behind
    assert "quota_exceeded" not in page.locator("main").inner_text()


def test_a_broken_answer_and_no_model_at_all_are_said_plainly(
    tab: TutorPage, backend: EchoSourceBackend
):
    tab.sign_in(token("ivo", classes=("7b",)))
    backend.fail = "after"  # the model's stream breaks after two words
    try:
        broken = tab.ask(CARBON)
        backend.fail = "before"  # and then no model answers at all
        unanswered = tab.ask("What is the symbol of gold?")
    finally:
        backend.fail = None
    expect(broken.get_by_test_id("answer-text")).to_have_text("From [1]: ")
    expect(broken.locator(".note-error")).to_contain_text("The answer broke off:")
    expect(unanswered.locator(".answer-notes")).to_contain_text("No model could answer just now")
    expect(unanswered.locator(".source-list summary").first).to_contain_text("gold")
    expect(tab.page.get_by_label("Your question")).to_be_enabled()  # ready for the next one


def test_markup_in_a_question_and_in_a_passage_is_shown_as_text(tab: TutorPage, web: WebApp):
    tab.sign_in(token("eve", classes=("7b",)))
    # Named by its whole title, so that grounding checks the (echoed) passage as a definition
    # of that entry and the model's markup reaches the page.
    question = "<img src=x onerror=\"alert('question')\"> what is " + MARKUP_DOC["title"] + "?"
    turn = tab.ask(question)
    expect(turn.locator(".question p")).to_have_text(question)
    expect(turn.get_by_test_id("answer-text")).to_contain_text("<script>alert('passage')</script>")
    source = turn.locator("details", has_text="zyxium").first
    expect(source.locator("summary")).to_contain_text("zyxium <img src=x")
    source.locator("summary").click()
    expect(source.locator(".passage")).to_contain_text("<img src=x onerror=\"alert('image')\">")
    assert tab.page.locator("main img, main script").count() == 0  # no element was made
    # And had one been made, the page's policy would not run it.
    csp = tab.page.request.get(web.url + "/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_a_teacher_sees_her_students_sessions_and_the_answers_to_look_at(
    browser: Browser, web: WebApp
):
    student = TutorPage(browser, web.url).open().sign_in(token("femi", classes=("8e",)))
    turn = student.ask("What is a noun?")
    turn.get_by_role("button", name="Not helpful").click()
    expect(turn.get_by_role("status").first).to_have_text("Thanks: your rating was recorded.")
    student.close()

    teacher = TutorPage(browser, web.url).open().sign_in(token("ms-ola", "teacher", ("8e",)))
    page = teacher.page
    expect(page.get_by_role("heading", name="My classes")).to_be_visible()  # her first view
    overview = page.locator("#overview")
    expect(overview).to_contain_text("Classes: 8e")
    deadline = time.monotonic() + 10  # the request log is written off the request path
    while "What is a noun?" not in overview.inner_text() and time.monotonic() < deadline:
        time.sleep(0.3)
        teacher.view("My classes")
    students = overview.get_by_role("region", name="Students")
    assert texts(students.locator(".card-title")) == ["femi"]
    expect(overview.get_by_role("region", name="Asked most")).to_contain_text("what is a noun?")
    flagged = overview.get_by_role("region", name="Answers to look at")
    expect(flagged).to_contain_text("Rated down by the student")
    expect(flagged).to_contain_text("What is a noun?")
    sessions = overview.get_by_role("region", name="Recent sessions")
    sessions.get_by_role("button", name=re.compile("Open the session of femi")).click()
    transcript = page.get_by_role("region", name="Session of femi")
    expect(transcript.locator(".line-user")).to_have_text(["femiWhat is a noun?"])
    expect(transcript.locator(".line-assistant")).to_contain_text("noun")
    assert not teacher.problems, teacher.problems
    teacher.close()


def test_a_student_finds_a_past_session_and_carries_it_on(tab: TutorPage):
    page = tab.page
    tab.sign_in(token("gita", classes=("7b",)))
    tab.ask("What is the symbol of sodium?")
    page.get_by_role("button", name="New conversation").click()
    expect(tab.turns()).to_have_count(0)
    tab.view("My sessions")
    cards = page.locator("#sessions .card")
    deadline = time.monotonic() + 10  # the request log is written off the request path
    while cards.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.3)
        tab.view("My sessions")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("What is the symbol of sodium?")
    cards.first.get_by_role("button", name=re.compile("Open the session")).click()
    page.get_by_role("button", name="Continue this conversation").click()
    expect(tab.turns()).to_have_count(1)
    tab.ask("And its atomic number?")
    tab.view("My sessions")
    expect(cards.first).to_contain_text("and 1 more")
    expect(cards).to_have_count(1)  # carried on in the same session


def test_on_a_phone_nothing_is_cut_off_or_needs_sideways_scrolling(browser: Browser, web: WebApp):
    tab = TutorPage(browser, web.url, viewport=PHONE).open().sign_in(token("hana"))
    turn = tab.ask("What is recursion in computing?")
    turn.locator("summary").first.click()
    turn.get_by_role("button", name="Practice this topic").click()
    finished(tab.turns().last)
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for button in tab.page.get_by_role("button").all():
        box = button.bounding_box()
        if box is not None:
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert not tab.problems, tab.problems
    tab.close()


def test_a_refused_token_is_said_and_with_auth_off_none_is_asked_for(browser: Browser, web: WebApp):
    tab = TutorPage(browser, web.url).open()
    tab.page.get_by_label("Access token").fill("not-a-token")
    tab.page.get_by_role("button", name="Sign in").click()
    expect(tab.page.get_by_role("alert")).to_have_text(
        "That token was not accepted: check it and sign in again."
    )
    tab.close()

    open_app = WebApp(web.shards, auth=False).start()
    try:
        tab = TutorPage(browser, open_app.url).open()
        expect(tab.page.locator("#who")).to_have_text("developer (admin)")
        expect(tab.page.get_by_role("button", name="Sign out")).to_be_hidden()
        expect(tab.ask(CARBON).get_by_test_id("answer-text")).to_contain_text("Atomic number: 6")
        tab.close()
    finally:
        open_app.stop()


def rating_of(database_url: str, user_id: str) -> int | None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT f.rating FROM feedback f JOIN request_log r USING (request_id) "
            "WHERE r.user_id = %s",
            (user_id,),
        ).fetchone()
    return None if row is None else int(row[0])
