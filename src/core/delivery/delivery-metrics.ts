/** Counters the dispatcher reports; the metrics adapter turns them into Prometheus series. */
export interface DeliveryMetrics {
  slackCall(method: string, outcome: 'ok' | 'rate_limited' | 'error'): void;
  queueDepth(depth: number): void;
  /** Milliseconds from an entry's creation to the call that showed it. */
  deliveryLatency?(ms: number, priority: string): void;
  /** Replies that left the outbox unposted, and why (`card-shows-it`: step progress its current status card shows). */
  repliesFolded?(count: number, reason: string): void;
}
