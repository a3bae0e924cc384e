// One question and its answer as it streams: the text, numbered citations that open to their
// passage, the grounding verdict in plain words, a rating, and a practice item when one came.

import { call } from "./api.js";
import { PracticeForm } from "./practice.js";
import { el, append, clear } from "./dom.js";

const VERDICTS = {
  supported: ["Checked against the sources", "verdict-ok"],
  repaired: ["Corrected to match the sources", "verdict-fixed"],
  unsupported: ["Not supported by the sources", "verdict-warn"],
  unverified: ["Could not be checked against the sources", "verdict-warn"],
};
const CITATION = /\[(\d{1,2})\]/g;
// Each answer event's type, and the method that shows it.
const HANDLERS = {
  sources: "showSources",
  token: "addToken",
  replace: "replaceText",
  grounding: "showVerdict",
  practice: "showPractice",
  error: "brokeOff",
  done: "finish",
};
let made = 0; // each answer's ids are unique on the page

export class AnswerView {
  // onPractice(topic) asks for a practice item on the topic; onError(error) reports a failure
  // of a call made from this answer (a rating, a check) that the page should handle.
  constructor(question, { onPractice, onError }) {
    this.id = `answer-${++made}`;
    this.onPractice = onPractice;
    this.onError = onError;
    this.text = "";
    this.sources = [];
    this.requestId = null;
    this.textBox = el("div", {
      class: "answer-text",
      "aria-live": "polite",
      "aria-busy": "true",
      "data-testid": "answer-text",
    });
    this.waiting = el("p", { class: "hint waiting", text: "Looking in your lessons…" });
    this.notes = el("div", { class: "answer-notes" });
    this.sourceList = el("div", { class: "sources" });
    this.extra = el("div", { class: "answer-extra" });
    this.actions = el("div", { class: "actions", hidden: true });
    this.node = el(
      "li",
      { class: "turn", id: this.id },
      el("div", { class: "question" }, el("span", { class: "speaker", text: "You" }), el("p", { text: question })),
      el(
        "article",
        { class: "answer", "aria-labelledby": `${this.id}-speaker` },
        el("span", { class: "speaker", id: `${this.id}-speaker`, text: "Tutor" }),
        this.waiting,
        this.textBox,
        this.notes,
        this.extra,
        this.sourceList,
        this.actions,
      ),
    );
  }

  // A past turn (from a stored session): its text, nothing to rate or check.
  static settled(question, text) {
    const view = new AnswerView(question, {});
    view.text = text;
    view.waiting.remove();
    view.textBox.setAttribute("aria-busy", "false");
    view.textBox.textContent = text;
    return view;
  }

  on(event) {
    const handler = HANDLERS[event.type];
    if (handler) this[handler](event);
  }

  addToken(event) {
    this.setText(this.text + event.text);
  }

  replaceText(event) {
    this.setText(event.text); // a repaired answer: what streamed so far is withdrawn
  }

  brokeOff(event) {
    this.note(`The answer broke off: ${event.error.message}`, "note-error");
  }

  setText(text) {
    this.waiting.remove();
    this.text = text;
    this.textBox.textContent = text; // as text: markup in an answer is shown, never run
  }

  note(message, kind = "") {
    this.waiting.remove();
    append(this.notes, [el("p", { class: `note ${kind}`, text: message })]);
  }

  showSources(event) {
    this.sources = event.sources;
    const degraded = (event.degraded ?? []).map((d) => d.shard ?? d.subject).filter(Boolean);
    if (degraded.length) this.note(`Some lessons could not be searched: ${degraded.join(", ")}.`);
    if (!this.sources.length) return;
    const items = this.sources.map((source, i) => this.sourceItem(source, i + 1));
    clear(this.sourceList);
    append(this.sourceList, [
      el("h3", { class: "label", text: "Sources" }),
      el("ol", { class: "source-list" }, items),
    ]);
  }

  sourceItem(source, number) {
    const passage = source.text
      ? el("blockquote", { class: "passage", text: source.text })
      : el("p", { class: "hint", text: "The passage's text is not available." });
    return el(
      "li",
      {},
      el(
        "details",
        { id: `${this.id}-source-${number}`, class: "source" },
        el(
          "summary",
          {},
          el("span", { class: "cite-number", text: `[${number}]` }),
          " ",
          el("span", { class: "source-title", text: source.title }),
          " ",
          el("span", { class: "subject", text: source.subject }),
        ),
        passage,
      ),
    );
  }

  showVerdict(event) {
    const [words, kind] = VERDICTS[event.verdict] ?? VERDICTS.unverified;
    const claims = event.verdict === "unsupported" ? event.unsupported ?? [] : [];
    const detail = claims.length ? ` (the sources do not say: ${claims.join(", ")})` : "";
    append(this.notes, [el("p", { class: `verdict ${kind}`, "data-testid": "verdict", text: words + detail })]);
  }

  showPractice(event) {
    this.practice = event.item;
    this.setText("A practice question for you:");
    const form = new PracticeForm(event.item, this.sources, this.onError);
    append(this.extra, [form.node]);
  }

  finish(done) {
    this.finished = true;
    this.waiting.remove();
    this.requestId = done.request_id || null;
    if (!this.text && done.message) this.setText(done.message);
    if (done.status === "degraded") this.note("No model could answer just now: the sources are below.");
    this.textBox.setAttribute("aria-busy", "false");
    if (!this.practice) this.linkCitations();
    this.showActions();
  }

  // Stopped before the end: a failure, or the person left the conversation.
  stop(message) {
    this.waiting.remove();
    this.textBox.setAttribute("aria-busy", "false");
    if (message) this.note(message, "note-error");
  }

  // The stream is over: an answer that broke off (an error event, no done) is shown as it is.
  ended() {
    if (!this.finished) this.stop("");
  }

  // "[2]" in the finished text becomes a button that opens source 2.
  linkCitations() {
    const parts = [];
    let last = 0;
    for (const match of this.text.matchAll(CITATION)) {
      const number = Number(match[1]);
      if (number < 1 || number > this.sources.length) continue;
      parts.push(this.text.slice(last, match.index), this.citation(number));
      last = match.index + match[0].length;
    }
    if (!parts.length) return;
    parts.push(this.text.slice(last));
    append(clear(this.textBox), parts);
  }

  citation(number) {
    const source = this.sources[number - 1];
    return el("button", {
      type: "button",
      class: "cite",
      "aria-label": `Source ${number}: ${source.title}`,
      text: `[${number}]`,
      onclick: () => {
        const details = document.getElementById(`${this.id}-source-${number}`);
        details.open = true;
        details.querySelector("summary").focus();
      },
    });
  }

  showActions() {
    clear(this.actions);
    const topic = this.topic();
    if (this.requestId) append(this.actions, [this.rating()]);
    if (topic && this.onPractice) {
      const label = this.practice ? "Another question on this topic" : "Practice this topic";
      append(this.actions, [
        el("button", { type: "button", class: "quiet", text: label, onclick: () => this.onPractice(topic) }),
      ]);
    }
    this.actions.hidden = !this.actions.childElementCount;
  }

  // What the answer is about: the source it cites first, else the best one found.
  topic() {
    for (const match of this.text.matchAll(CITATION)) {
      const source = this.sources[Number(match[1]) - 1];
      if (source) return source.title;
    }
    return this.sources[0]?.title;
  }

  rating() {
    const status = el("span", { class: "status", role: "status" });
    const up = el("button", { type: "button", class: "rate", "aria-pressed": "false" }, el("span", { "aria-hidden": "true", text: "▲ " }), "Helpful");
    const down = el("button", { type: "button", class: "rate", "aria-pressed": "false" }, el("span", { "aria-hidden": "true", text: "▼ " }), "Not helpful");
    const rate = async (rating, button) => {
      up.disabled = down.disabled = true;
      try {
        await call("/api/v1/ai-tutor/feedback", { method: "POST", body: { request_id: this.requestId, rating } });
        button.setAttribute("aria-pressed", "true");
        status.textContent = "Thanks: your rating was recorded.";
      } catch (error) {
        up.disabled = down.disabled = false;
        status.textContent = `Your rating was not recorded: ${error.message}`;
        this.onError?.(error);
      }
    };
    up.addEventListener("click", () => rate("up", up));
    down.addEventListener("click", () => rate("down", down));
    return el("div", { class: "rating", role: "group", "aria-label": "Rate this answer" }, up, down, status);
  }
}
