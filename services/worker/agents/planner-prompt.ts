// The prompt of a planner run (`planning` on the task, docs/planning.md): the goal, the roles it may use, the
// templates, the selection rules, the configured gates, a summary of the workspace, on a later attempt the plan it
// returned and every error found in it, and exactly how to answer. Pure: the worker gathers the inputs.
import type { GivenAnswer, PlanningBrief, SelectionRule, Template, TaskAssigned } from "../../../shared/protocol/index.ts";
import { answersSection } from "./prompt.ts";

/** A role as a planner sees it (from its role file). */
export interface RoleSummary {
  name: string;
  description?: string | undefined;
  produces?: readonly string[] | undefined;
  reads?: readonly string[] | undefined;
  gates?: readonly string[] | undefined;
}

export interface PlannerPromptParts {
  /** The planner role's own prompt (its role file's body or the role's prompt file). */
  rolePrompt?: string | undefined;
  task: Pick<TaskAssigned, "feature"> & { planning: PlanningBrief; answers?: readonly GivenAnswer[] | undefined };
  /** The roles a plan may name, already narrowed to `planning.roles` when that is given. */
  roles: readonly RoleSummary[];
  /** The workspace summary, rendered (workspace-summary.ts). */
  workspace: string;
  /** `fenced` (CLI agents): a fenced json block ends the final message; `field`: the `plan` field of a JSON answer (llm). */
  answer: "fenced" | "field";
}

/** Previous plan JSON longer than this is cut in the prompt. */
const PREVIOUS_PLAN_CHARS = 50_000;

export const EXPLICIT_PLAN_EXAMPLE = `{ "plan": {
  "summary": "what the plan does, in a few sentences",
  "tasks": [
    { "id": "schema", "role": "database", "title": "Add the notifications table", "instructions": "…", "dependsOn": [],
      "kind": "schema", "stream": "database", "gates": [], "produces": ["docs/database/README.md"], "reads": [], "files": ["migrations/**"] },
    { "id": "api", "role": "api", "title": "Describe the endpoints", "dependsOn": ["schema"], "kind": "endpoint",
      "produces": ["docs/openapi.yaml"], "reads": ["docs/database/README.md"] }
  ],
  "gates": [],
  "streams": { "database": { "description": "schema and migrations", "gates": [] } }
} }`;

export const TEMPLATE_PLAN_EXAMPLE = `{ "plan": { "summary": "…", "template": "api-first", "parameters": { "resource": "notifications" }, "skip": [], "stepRoles": {}, "tasks": [] } }`;

/** The whole prompt of a planner run. Pure; the same parts always give the same text. */
export function buildPlannerPrompt(parts: PlannerPromptParts): string {
  const { planning, feature } = parts.task;
  const sections: string[] = [];
  if (parts.rolePrompt?.trim()) sections.push(parts.rolePrompt.trim());
  sections.push(`# Plan this feature: ${feature.title}\n\nThe goal, in the words of the person who asked:\n\n${quote(planning.goal)}` +
    `${feature.description && feature.description !== planning.goal ? `\n\n${feature.description}` : ""}\n\n` +
    "Turn it into a plan of tasks for the roles below, in the right order. You plan; you do not implement: read what you need, and change no files.");
  sections.push(rolesSection(parts.roles, planning.roles));
  sections.push(templatesSection(planning.templates));
  sections.push(rulesSection(planning.rules));
  sections.push(`# Gates you may use\n\n${planning.gates.length ? planning.gates.map((gate) => `- ${gate}`).join("\n") : "None are configured: give no gates."}`);
  sections.push(`# The workspace\n\n${parts.workspace}`);
  if (planning.previous && planning.attempt > 1) sections.push(previousSection(planning));
  if (parts.task.answers?.length) sections.push(answersSection(parts.task.answers));
  sections.push(answerSection(parts.answer));
  return sections.join("\n\n");
}

function rolesSection(roles: readonly RoleSummary[], allowed: readonly string[] | undefined): string {
  const lines = roles.map((role) => {
    const facts = [role.produces?.length ? `produces ${role.produces.join(", ")}` : "", role.reads?.length ? `reads ${role.reads.join(", ")}` : "", role.gates?.length ? `gates ${role.gates.join(", ")}` : ""].filter(Boolean);
    return `- ${role.name}${role.description ? `: ${oneLine(role.description)}` : ""}${facts.length ? ` (${facts.join("; ")})` : ""}`;
  });
  const described = new Set(roles.map((role) => role.name));
  for (const name of allowed ?? []) if (!described.has(name)) lines.push(`- ${name}`);
  const scope = allowed ? "A plan may name only these roles." : "Use these roles; a plan naming another role needs a worker for it.";
  return `# Roles\n\n${scope}\n\n${lines.join("\n") || "(no role files are loaded)"}`;
}

function templatesSection(templates: readonly Template[]): string {
  if (!templates.length) return "# Templates\n\nNone: give the tasks yourself.";
  const blocks = templates.map((template) => {
    const lines = [`## ${template.name}`, oneLine(template.description)];
    if (template.when) lines.push(`When: ${oneLine(template.when)}`);
    const params = Object.entries(template.parameters ?? {}).map(([name, param]) => {
      const traits = [param.list ? "a list" : "", param.required ? "required" : "", param.default !== undefined ? `default ${JSON.stringify(param.default)}` : ""].filter(Boolean);
      return `  - ${name}${traits.length ? ` (${traits.join(", ")})` : ""}: ${oneLine(param.description)}`;
    });
    if (params.length) lines.push(`Parameters:\n${params.join("\n")}`);
    lines.push(`Steps:\n${template.steps.map((step, index) => {
      const who = [step.kind ? `kind ${step.kind}` : "", step.role ? `role ${step.role}` : ""].filter(Boolean).join(", ");
      const extras = [step.dependsOn?.length ? `after ${step.dependsOn.join(", ")}` : "", step.forEach ? `once per ${step.forEach}` : "", step.stream ? `stream ${step.stream}` : "", step.produces?.length ? `produces ${step.produces.join(", ")}` : ""].filter(Boolean);
      return `  ${index + 1}. ${step.id}${who ? ` [${who}]` : ""}: ${oneLine(step.title)}${extras.length ? ` (${extras.join("; ")})` : ""}`;
    }).join("\n")}`);
    if (template.gates?.length) lines.push(`Feature gates: ${template.gates.join(", ")}`);
    return lines.join("\n");
  });
  return `# Templates\n\nA plan may name one of these, with its parameters, steps to skip, other roles for steps, and extra tasks.\n\n${blocks.join("\n\n")}`;
}

function rulesSection(rules: readonly SelectionRule[]): string {
  if (!rules.length) return "# Selection rules\n\nNone.";
  const lines = rules.map((rule) => {
    const order = [rule.before?.length ? `before ${rule.before.join(", ")}` : "", rule.always ? "every plan has one" : "", rule.last ? "after every other task" : ""].filter(Boolean);
    return `- ${rule.kind} → ${rule.role}: ${oneLine(rule.description)}${order.length ? ` (${order.join("; ")})` : ""}`;
  });
  return `# Selection rules\n\nThe kind of change decides the role and its place; give each task its \`kind\`. Plans are checked against these.\n\n${lines.join("\n")}`;
}

function previousSection(planning: PlanningBrief): string {
  let json = JSON.stringify(planning.previous!.plan, null, 2) ?? "null";
  if (json.length > PREVIOUS_PLAN_CHARS) json = `${json.slice(0, PREVIOUS_PLAN_CHARS)}\n… (cut)`;
  const errors = planning.previous!.errors.map((issue) => `- ${issue.path || "(the plan)"}: ${issue.message}`).join("\n");
  return `# Your previous plan was invalid (this is attempt ${planning.attempt} of ${planning.maxAttempts})\n\n` +
    `It was:\n\`\`\`json\n${json}\n\`\`\`\n\nFix every one of these errors, and answer with the whole corrected plan:\n${errors || "- (no errors were listed)"}`;
}

function answerSection(answer: "fenced" | "field"): string {
  const rules = "Task ids are short words of [A-Za-z0-9_-] (not `plan`); `dependsOn` names ids of the plan; `role`s come from the roles above and `gates` " +
    "from the gates above; a task that `reads` a file another task `produces` depends on it (directly or not). Optional task fields may be left out.";
  if (answer === "field") {
    return `# How to answer\n\nPut your plan in the \`plan\` field of your JSON answer (give no \`files\`), either tasks:\n${EXPLICIT_PLAN_EXAMPLE}\n\nor a template:\n${TEMPLATE_PLAN_EXAMPLE}\n\n(the outer \`{ "plan": … }\` is the field). ${rules}`;
  }
  return "# How to answer\n\nEnd your final message with your plan as one fenced json block, either tasks:\n" +
    `\`\`\`json\n${EXPLICIT_PLAN_EXAMPLE}\n\`\`\`\n\nor a template with its parameters, steps to skip, other roles for steps and extra tasks:\n` +
    `\`\`\`json\n${TEMPLATE_PLAN_EXAMPLE}\n\`\`\`\n\n${rules} Do not change any files.`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function quote(text: string): string {
  return text.split(/\r?\n/).map((line) => `> ${line}`).join("\n");
}
