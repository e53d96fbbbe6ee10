/** How fast we may talk to Slack. Slack allows about one post per second per channel, with short bursts. */
export interface Pacing {
  /** Posts per second per channel (default 1). */
  postsPerSecond: number;
  /**
   * Posts a channel may burst before pacing kicks in (default 4); never more than `postsPerSecond × 10` in any 10 s,
   * counted from each post's send to its answer.
   */
  postBurst: number;
  /**
   * chat.update calls per second for the whole workspace (Tier 3: about 50 a minute; default 50/60), never more than
   * `updatesPerSecond × 60` in any minute, bursts included.
   */
  updatesPerSecond: number;
  /** chat.update burst (default 10). */
  updateBurst: number;
  /** Most replies merged into one message while a channel is busy (default 10). */
  maxBatch: number;
  /**
   * Read-back requests per minute, for each of conversations.history and conversations.replies (default 1: Slack
   * allows some apps no more). Reading back is how an entry in doubt is settled, so it has its own budget.
   */
  readsPerMinute: number;
  /** Read-back requests a method may burst before that pace applies (default 3); a 429 still waits as told. */
  readBurst: number;
  /**
   * Posts of a channel kept for priority news and new root cards while some wait there (default 1): step progress
   * and other replies leave this many. Never more than the burst allows (a burst of 1 keeps none).
   */
  priorityReserve: number;
  /**
   * A channel has a backlog when more entries wait than it may post right away plus this many (default 1). Under a
   * backlog a thread's queued replies go as one message, and step progress its status card already shows is folded.
   */
  backlogMargin: number;
}

/** The pacing used where the config says nothing. */
export const DEFAULT_PACING: Pacing = {
  postsPerSecond: 1, postBurst: 4, updatesPerSecond: 50 / 60, updateBurst: 10, maxBatch: 10, readsPerMinute: 1, readBurst: 3,
  priorityReserve: 1, backlogMargin: 1,
};

/** The window the post pace holds (Slack's "1 per second" over any 10 s) and the one chat.update's holds (a minute). */
export const POST_WINDOW_MS = 10_000;
export const UPDATE_WINDOW_MS = 60_000;
