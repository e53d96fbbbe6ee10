/**
 * A revision that changed no image, so no deploy thread was opened for it (`detectNoOpRevision`), kept until the note
 * of its channel names it, and after: a restart re-arms a note still due and never repeats one sent.
 */
export interface NoOpMark {
  /** The channel of its environment: one note per channel names every rollout seen within the window. */
  channel: string;
  app: string;
  env: string;
  /** `namespace/rollout`. */
  rollout: string;
  revision: string;
  /** When it was first seen (the window of its channel's note starts at the first unnoted one). */
  seenAt: number;
  /** When the note naming it was queued; undefined while the window is open. */
  notedAt?: number;
}
