// The boxes that ask a person to act: the plan waiting for approval (Approve / Reject with a reason) and the open
// questions (an option's button, or a typed answer). Each is redrawn only when what it shows changed, so that text
// being typed survives the live updates.
import { actor, ago, el, fill, post, reportOutcome } from "./lib.js";

/** Runs `action` with every button and field of `box` disabled; they come back unless the box was replaced. */
async function busy(box, action) {
  const controls = [...box.querySelectorAll("button, input, textarea")];
  for (const control of controls) control.disabled = true;
  box.classList.add("is-busy");
  try {
    return await action();
  } finally {
    for (const control of controls) control.disabled = false;
    box.classList.remove("is-busy");
  }
}

/** The approval box; `update(view)` shows it while the feature awaits approval. */
export function planPanel(featureId) {
  const element = el("section", { class: "card callout callout-plan", id: "plan", hidden: true });
  let shown = "";
  const send = (verb, reason) => busy(element, async () => {
    const reply = await post(`/api/features/${featureId}/control`, { verb, by: actor(), ...(reason ? { reason } : {}) });
    reportOutcome(verb === "approve" ? "Approve" : "Reject", reply);
  });
  const draw = (view) => {
    const plan = view.plan ?? {};
    const reason = el("input", { class: "reject-reason", placeholder: "Why reject it? (recorded)", maxlength: 2000, "aria-label": "reason" });
    const rejectRow = el("div", { class: "reject-row", hidden: true }, reason,
      el("button", { class: "btn btn-danger", "data-action": "reject-confirm", onclick: () => (reason.value.trim() ? void send("reject", reason.value.trim()) : reason.focus()) }, "Reject plan"));
    fill(element,
      el("div", { class: "callout-head" }, el("span", { class: "callout-icon" }, "◆"), el("h2", {}, "The plan waits for your approval")),
      el("p", { class: "plan-meta" },
        `${view.tasks.length} tasks, planned from ${plan.source ?? "the request"}${plan.template ? ` (template ${plan.template})` : ""}`,
        plan.readyAt ? ` · ready ${ago(plan.readyAt)}` : ""),
      plan.goal ? el("p", { class: "plan-goal" }, el("strong", {}, "Goal: "), plan.goal) : null,
      plan.summary ? el("p", { class: "plan-summary" }, plan.summary) : null,
      plan.notes?.length ? el("ul", { class: "plan-notes" }, plan.notes.map((note) => el("li", {}, note))) : null,
      el("ol", { class: "plan-tasks" }, view.tasks.map((task) => el("li", {}, el("strong", {}, task.title), el("span", { class: "muted" }, ` ${task.id} · ${task.role}${task.dependsOn.length ? ` · after ${task.dependsOn.join(", ")}` : ""}`)))),
      el("div", { class: "callout-actions" },
        el("button", { class: "btn btn-primary", "data-action": "approve", onclick: () => void send("approve") }, "Approve and start"),
        el("button", { class: "btn", "data-action": "reject", onclick: () => ((rejectRow.hidden = false), reason.focus()) }, "Reject…")),
      rejectRow);
  };
  return {
    element,
    update(view) {
      const waiting = view.state === "awaitingApproval";
      element.hidden = !waiting;
      const signature = waiting ? `${view.plan?.readyAt}/${view.tasks.length}` : "";
      if (signature !== shown) {
        shown = signature;
        if (waiting) draw(view);
      }
    },
  };
}

function questionCard(featureId, question) {
  const typed = el("textarea", { class: "answer-text", rows: 2, placeholder: question.freeText ? "Type your answer…" : `One of: ${(question.options ?? []).join(", ")}`, maxlength: 10000, "aria-label": "answer" });
  const card = el("div", { class: "question", "data-question-id": question.questionId, "data-task-id": question.taskId ?? "" });
  const answer = (text) => busy(card, async () => {
    const reply = await post(`/api/features/${featureId}/answer`, { questionId: question.questionId, answer: text, by: actor() });
    if (reportOutcome(`Answer to ${question.questionId}`, reply)) card.classList.add("question-sent");
  });
  const submit = () => (typed.value.trim() ? void answer(typed.value.trim()) : typed.focus());
  typed.addEventListener("keydown", (event) => event.key === "Enter" && (event.ctrlKey || event.metaKey) && submit());
  card.append(
    el("div", { class: "question-head" },
      el("span", { class: "question-id" }, question.questionId),
      question.taskId ? el("span", { class: "tag" }, `task ${question.taskId}`) : null,
      question.topic ? el("span", { class: "tag" }, question.topic) : null,
      question.about !== "task" ? el("span", { class: "tag tag-warn" }, question.about) : null,
      question.state === "escalated" ? el("span", { class: "tag tag-danger" }, "escalated") : null,
      el("span", { class: "muted small" }, `asked ${ago(question.askedAt)}`)),
    el("p", { class: "question-text" }, question.question),
    question.context ? el("pre", { class: "question-context" }, question.context) : null,
    question.options?.length ? el("div", { class: "question-options" }, question.options.map((option) =>
      el("button", { class: `btn btn-option${option === question.default ? " is-default" : ""}`, "data-option": option, onclick: () => void answer(option) }, option))) : null,
    el("div", { class: "answer-row" }, typed, el("button", { class: "btn btn-primary", "data-action": "answer", onclick: submit }, "Answer")),
    question.default || question.timeoutAt
      ? el("div", { class: "muted small" }, question.default ? `Default “${question.default}”` : "No default", question.timeoutAt ? ` — taken (or escalated) at ${new Date(question.timeoutAt).toLocaleString()}` : "")
      : null);
  return card;
}

/** The open questions; `update(view)` redraws when the set of open questions changed. */
export function questionsPanel(featureId) {
  const element = el("section", { class: "card callout callout-question", id: "questions", hidden: true });
  let shown = "";
  return {
    element,
    update(view) {
      const open = (view.questions ?? []).filter((question) => question.state !== "answered");
      const signature = open.map((question) => `${question.questionId}:${question.state}`).join(",");
      element.hidden = open.length === 0;
      if (signature === shown) return;
      shown = signature;
      fill(element,
        el("div", { class: "callout-head" }, el("span", { class: "callout-icon" }, "?"), el("h2", {}, open.length === 1 ? "A question for you" : `${open.length} questions for you`)),
        open.map((question) => questionCard(featureId, question)));
    },
  };
}
