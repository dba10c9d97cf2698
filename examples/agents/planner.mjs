// Demo "planner" agent (`plan: auto`): reads the planning brief Baton puts in the task on stdin (the goal, templates,
// selection rules, roles and gates; `plannerContext` adds the role catalogue and a workspace summary) and writes
// `{ summary, plan }` to $BATON_RESULT_FILE. A goal about an API (endpoints, notifications, …) gets the `api-first`
// template with parameters taken from the goal; anything else a small list of tasks. Given the errors of its previous
// plan, it fixes what they name. BATON_PLANNER_FIRST_INVALID=1 makes attempt 1 return a deliberately invalid plan
// (a dependency cycle and an unknown role), so tests and the demo show the retry.
import { AgentError, runAgent } from "./lib.mjs";

const API_WORDS = /\b(api|apis|endpoints?|rest|http|routes?|webhooks?|notifications?|real-?time|websockets?|service)\b/i;
const STOP_WORDS = new Set(["a", "an", "the", "implement", "add", "build", "create", "make", "with", "and", "for", "of", "to", "new", "system", "real", "time", "updates", "api", "apis", "endpoint", "endpoints", "support", "in", "on"]);

/** The main thing the goal is about, as a lower-case slug: "implement a notification system" → "notifications". */
function resourceOf(goal) {
  const words = goal.toLowerCase().match(/[a-z][a-z0-9]*/g) ?? [];
  const noun = words.find((word) => !STOP_WORDS.has(word)) ?? "items";
  return noun.endsWith("s") ? noun : `${noun}s`;
}

/** A value for each parameter the template declares, from the goal; parameters with a default are left to it. */
function parametersFor(template, goal) {
  const resource = resourceOf(goal);
  const out = {};
  for (const [name, param] of Object.entries(template.parameters ?? {})) {
    const lower = name.toLowerCase();
    if (/goal|description|summary|feature/.test(lower)) out[name] = goal.slice(0, 2000);
    else if (param.list) out[name] = [resource];
    else if (/resource|entity|name|table|model|noun|topic/.test(lower) || (param.required && param.default === undefined)) out[name] = resource;
  }
  return out;
}

/** The role a selection rule gives `kind`, when the role may be used; else `fallback`. */
function roleFor(planning, kind, fallback) {
  const rule = planning.rules.find((r) => r.kind === kind);
  const allowed = (role) => !planning.roles || planning.roles.includes(role);
  if (rule && allowed(rule.role)) return rule.role;
  if (allowed(fallback)) return fallback;
  return planning.roles?.[0] ?? fallback;
}

/** A few tasks in order: implement, then one task per rule every plan must have (tests, review, …), each after the ones before. */
function explicitPlan(planning, goal) {
  const kindOfRole = (role) => planning.rules.find((r) => r.role === role)?.kind;
  const main = roleFor(planning, "backend", "backend");
  const tasks = [{ id: "implement", role: main, title: `Implement: ${goal.slice(0, 200)}`, instructions: goal, ...(kindOfRole(main) ? { kind: kindOfRole(main) } : {}) }];
  for (const rule of planning.rules.filter((r) => r.always && r.kind !== tasks[0].kind)) {
    if (planning.roles && !planning.roles.includes(rule.role)) continue;
    tasks.push({ id: rule.kind, role: rule.role, kind: rule.kind, title: `${rule.kind[0].toUpperCase()}${rule.kind.slice(1)} for: ${goal}`.slice(0, 500), instructions: rule.description, dependsOn: tasks.map((t) => t.id) });
  }
  // a rule that must come last goes after every other task
  tasks.sort((left, right) => Number(planning.rules.find((r) => r.kind === left.kind)?.last ?? 0) - Number(planning.rules.find((r) => r.kind === right.kind)?.last ?? 0));
  for (const [index, task] of tasks.entries()) if (index > 0) task.dependsOn = tasks.slice(0, index).map((t) => t.id);
  return { summary: `${tasks.length} tasks: ${tasks.map((t) => `${t.id} (${t.role})`).join(" → ")}`, tasks };
}

function planFor(planning) {
  const goal = planning.goal;
  const template = planning.templates.find((t) => t.name === "api-first");
  if (template && API_WORDS.test(goal)) {
    const parameters = parametersFor(template, goal);
    return { summary: `api-first for ${resourceOf(goal)}: ${template.steps.map((s) => s.id).join(" → ")}`, template: "api-first", parameters };
  }
  return explicitPlan(planning, goal);
}

/** Attempt 1 with BATON_PLANNER_FIRST_INVALID=1: a cycle (a ↔ b) and a role nobody has. */
const INVALID_PLAN = {
  summary: "a deliberately invalid plan (BATON_PLANNER_FIRST_INVALID=1)",
  tasks: [
    { id: "a", role: "wizard", title: "Cast the schema", dependsOn: ["b"] },
    { id: "b", role: "backend", title: "Build on the schema", dependsOn: ["a"] },
  ],
};

/** Quoted names in the errors that mention `word` ("unknown role \"wizard\"" → wizard). */
function namesIn(errors, word) {
  const names = new Set();
  for (const error of errors) {
    if (!`${error.path} ${error.message}`.toLowerCase().includes(word)) continue;
    for (const match of error.message.matchAll(/["'`]([A-Za-z0-9_-]+)["'`]/g)) names.add(match[1]);
  }
  return names;
}

/** What the errors of the previous plan name, fixed in `plan` where it can: unknown gates dropped, unknown roles replaced. */
function fixFromErrors(plan, planning, say) {
  const errors = planning.previous?.errors ?? [];
  for (const error of errors) say(`previous plan: ${error.path || "(plan)"}: ${error.message}`);
  const badGates = namesIn(errors, "gate");
  const badRoles = namesIn(errors, "role");
  const dropGates = (gates) => gates?.filter((gate) => !badGates.has(gate) && planning.gates.includes(gate));
  if (plan.gates) plan.gates = dropGates(plan.gates);
  for (const task of plan.tasks ?? []) {
    if (task.gates) task.gates = dropGates(task.gates);
    if (badRoles.has(task.role)) task.role = roleFor(planning, task.kind ?? "backend", "backend");
  }
  return plan;
}

await runAgent("planner", async (task, say) => {
  const planning = task.planning;
  if (!planning || typeof planning.goal !== "string") throw new AgentError("this task has no planning brief: the planner role plans features submitted with `plan: auto`");
  planning.rules ??= [];
  planning.templates ??= [];
  planning.gates ??= [];
  say(`attempt ${planning.attempt} of ${planning.maxAttempts}: ${planning.goal}`);
  const known = task.plannerContext?.roles?.map((role) => role.name) ?? [];
  if (known.length) say(`roles in the catalogue: ${known.join(", ")}`);
  if (planning.attempt === 1 && process.env.BATON_PLANNER_FIRST_INVALID === "1") {
    say("returning a deliberately invalid plan (BATON_PLANNER_FIRST_INVALID=1)");
    return { summary: INVALID_PLAN.summary, plan: INVALID_PLAN };
  }
  const plan = fixFromErrors(planFor(planning), planning, say);
  return { summary: plan.summary, plan };
});
