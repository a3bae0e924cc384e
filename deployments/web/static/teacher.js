// A teacher's view of their classes: students and their practice, recent sessions (each opens
// to its transcript), the questions asked most, and answers rated down or not grounded.

import { call } from "./api.js";
import { $, append, clear, el, when } from "./dom.js";
import { sessionCard, transcript } from "./sessions.js";

const REASONS = {
  "rated down": "Rated down by the student",
  unsupported: "Not supported by the sources",
  unverified: "Could not be checked against the sources",
  repaired: "Corrected to match the sources",
};

function classesLine(classes) {
  if (classes === null || classes === undefined) return "All classes";
  return classes.length ? `Classes: ${classes.join(", ")}` : "Your sign-in names no classes.";
}

export class TeacherView {
  constructor({ onError }) {
    this.onError = onError;
  }

  async load() {
    const target = $("overview");
    append(clear(target), [el("p", { class: "hint", text: "Loading…" })]);
    try {
      this.render(target, await call("/api/v1/teacher/overview"));
    } catch (error) {
      append(clear(target), [el("p", { class: "note note-error", text: `Your classes could not be loaded: ${error.message}` })]);
      this.onError(error);
    }
  }

  render(target, overview) {
    this.names = new Map((overview.students ?? []).map((s) => [s.user_id, s.display_name || s.user_id]));
    const classes = overview.classes; // null: every class (an admin)
    this.detail = el("div", { id: "teacher-session" });
    append(clear(target), [
      el("p", { class: "hint", text: classesLine(classes) }),
      this.part("Students", overview.students, (s) => this.student(s), "No students yet."),
      this.part("Recent sessions", overview.sessions, (s) => this.session(s), "No sessions yet."),
      this.detail,
      this.part("Asked most", overview.most_asked, (q) => el("li", { class: "card" }, el("span", { class: "count", text: `${q.count}×` }), " ", q.question), "Nothing asked yet.", "ol"),
      this.part("Answers to look at", overview.flagged, (f) => this.flagged(f), "No answers rated down or corrected."),
    ]);
  }

  part(title, rows, render, empty, list = "ul") {
    const id = `teacher-${title.toLowerCase().replaceAll(" ", "-")}`;
    const items = (rows ?? []).map(render);
    return el(
      "section",
      { class: "part", "aria-labelledby": id },
      el("h3", { id, text: title }),
      items.length ? el(list, { class: "cards" }, items) : el("p", { class: "hint", text: empty }),
    );
  }

  name(userId) {
    return this.names.get(userId) ?? userId;
  }

  student(student) {
    const practice = student.practice ?? {};
    const done = Number.isFinite(practice.answered)
      ? `practice: ${practice.correct ?? 0} right out of ${practice.answered}`
      : "no practice yet";
    return el(
      "li",
      { class: "card" },
      el("p", { class: "card-title", text: this.name(student.user_id) }),
      el("p", { class: "card-meta", text: `${(student.classes ?? []).join(", ")} · ${done}` }),
    );
  }

  session(entry) {
    const who = this.name(entry.user_id);
    return sessionCard(entry, {
      who,
      onOpen: (e) => this.open(e, who),
    });
  }

  async open(entry, who) {
    try {
      await transcript(entry, this.detail, { title: `Session of ${who}` });
    } catch (error) {
      append(clear(this.detail), [el("p", { class: "note note-error", text: `This session could not be opened: ${error.message}` })]);
      this.onError(error);
    }
  }

  flagged(entry) {
    return el(
      "li",
      { class: "card" },
      el("p", { class: "card-meta" }, el("strong", { text: this.name(entry.user_id) }), ` · ${when(entry.at)} · `, el("span", { class: "flag", text: REASONS[entry.reason] ?? entry.reason })),
      el("p", { class: "card-title", text: entry.question }),
    );
  }
}
