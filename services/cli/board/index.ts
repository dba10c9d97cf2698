// `baton watch`'s live board on a terminal (issue 14): the pure frame renderer, the in-place redraw, and when to use them.
export { clock, renderBoard, type BoardInput } from "./frame.ts";
export { boardWanted, startLiveBoard, type LiveBoard, type LiveBoardOptions } from "./live.ts";
export { noteRecent, type RecentLines } from "./recent.ts";
export { startScreen, type Screen, type ScreenOptions, type TerminalOut } from "./screen.ts";
export { clean, fit, visibleWidth } from "./text.ts";
