/** An environment locked by a person (`/rollout lock`), kept by `<app>/<env>` until `/rollout unlock`. */
export interface LockRecord {
  app: string;
  env: string;
  /** Slack user id or GitHub login of who locked it. */
  by: string;
  source: 'slack' | 'github';
  /** Why, as they typed it (absent when they gave none). */
  reason?: string;
  /** When it was locked (ms). */
  since: number;
}
