// Every API the scripted model server speaks; a request goes to the first dialect that handles its method and path.
import { anthropicDialect } from "./anthropic.ts";
import { geminiDialect } from "./gemini.ts";
import { openaiChatDialect } from "./openai-chat.ts";
import { openaiResponsesDialect } from "./openai-responses.ts";
import type { Dialect } from "./server.ts";

export const ALL_DIALECTS: Dialect[] = [
  anthropicDialect,
  geminiDialect,
  openaiChatDialect,
  openaiResponsesDialect,
];
