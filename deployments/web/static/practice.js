// A practice item: its question, its choices as radio buttons (or a text box when it has
// none), and the graded result with the key and the passage it comes from.

import { call } from "./api.js";
import { el, append, clear } from "./dom.js";

const LETTERS = "ABCD";
let made = 0;

export class PracticeForm {
  constructor(item, sources, onError) {
    this.item = item;
    this.onError = onError;
    this.id = `practice-${++made}`;
    this.title = sources.find((s) => s.id === item.source_id)?.title ?? item.subject;
    this.result = el("div", { class: "practice-result", role: "status", "data-testid": "practice-result" });
    this.button = el("button", { type: "submit", text: "Check my answer" });
    this.node = el(
      "form",
      { class: "practice", "aria-labelledby": `${this.id}-question`, onsubmit: (e) => this.submit(e) },
      el("p", { class: "label", text: `Practice · ${item.subject}` }),
      this.answerField(),
      this.button,
      this.result,
    );
  }

  answerField() {
    const question = el("legend", { id: `${this.id}-question`, class: "practice-question", text: this.item.question });
    if (!this.item.choices.length) {
      this.input = el("input", { id: `${this.id}-answer`, type: "text", required: true, maxlength: 500, autocomplete: "off" });
      return el(
        "fieldset",
        {},
        question,
        el("label", { for: `${this.id}-answer`, text: "Your answer" }),
        this.input,
      );
    }
    const choices = this.item.choices.map((choice, i) => {
      const id = `${this.id}-choice-${i}`;
      return el(
        "div",
        { class: "choice" },
        el("input", { type: "radio", id, name: this.id, value: LETTERS[i], required: true }),
        el("label", { for: id }, el("span", { class: "letter", text: `${LETTERS[i]})` }), " ", choice),
      );
    });
    return el("fieldset", { class: "choices" }, question, choices);
  }

  answer() {
    if (this.input) return this.input.value.trim();
    return this.node.querySelector("input[type=radio]:checked")?.value ?? "";
  }

  async submit(event) {
    event.preventDefault();
    const answer = this.answer();
    if (!answer) return;
    this.button.disabled = true;
    try {
      const body = { item_id: this.item.item_id, answer };
      this.show(await call("/api/v1/ai-tutor/practice/check", { method: "POST", body }));
      for (const input of this.node.querySelectorAll("input")) input.disabled = true;
    } catch (error) {
      this.button.disabled = false;
      append(clear(this.result), [el("p", { class: "note note-error", text: `Not checked: ${error.message}` })]);
      this.onError?.(error);
    }
  }

  show(result) {
    const verdict = result.correct
      ? el("p", { class: "verdict verdict-ok", text: "Correct!" })
      : el("p", { class: "verdict verdict-warn", text: `Not quite. The answer is ${result.answer}.` });
    const passage = result.explanation ?? {};
    const progress = result.progress ?? {};
    const parts = [verdict];
    if (passage.text) {
      parts.push(
        el(
          "details",
          { class: "source", open: true },
          el("summary", {}, "Why: ", el("span", { class: "source-title", text: passage.title ?? this.title }), " ", el("span", { class: "subject", text: passage.subject ?? "" })),
          el("blockquote", { class: "passage", text: passage.text }),
        ),
      );
    }
    if (Number.isFinite(progress.answered)) {
      parts.push(el("p", { class: "hint", text: `Your practice so far: ${progress.correct ?? 0} right out of ${progress.answered}.` }));
    } else if (result.counted === false) {
      parts.push(el("p", { class: "hint", text: "You had answered this one before: it was not counted again." }));
    }
    append(clear(this.result), parts);
  }
}
