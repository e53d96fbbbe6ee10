/** How fast we may talk to Slack. Slack allows about one post per second per channel, with short bursts. */
export interface Pacing {
  /** Posts per second per channel (default 1). */
  postsPerSecond: number;
  /** Posts a channel may burst before pacing kicks in (default 4); the average over any 10 s stays at `postsPerSecond`. */
  postBurst: number;
  /** chat.update calls per second for the whole workspace (Tier 3 is about 50 a minute; default 1). */
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
}

/** The pacing used where the config says nothing. */
export const DEFAULT_PACING: Pacing = { postsPerSecond: 1, postBurst: 4, updatesPerSecond: 1, updateBurst: 10, maxBatch: 10, readsPerMinute: 1, readBurst: 3 };
