import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeliveryMetrics } from '../../core/delivery/outbox-dispatcher.js';

/** The bot's Prometheus series, on a registry of its own (never the process-global one). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rollout_chatops_' });
  const rolloutEvents = new Counter({ name: 'rollout_chatops_rollout_events_total', help: 'Rollout events seen, by type', labelNames: ['type'], registers: [registry] });
  const rolloutUpdates = new Counter({ name: 'rollout_chatops_rollout_updates_total', help: 'Rollout objects received from the watch', registers: [registry] });
  const slackCalls = new Counter({ name: 'rollout_chatops_slack_calls_total', help: 'Slack Web API calls by method and outcome', labelNames: ['method', 'outcome'], registers: [registry] });
  const slackRateLimited = new Counter({ name: 'rollout_chatops_slack_rate_limited_total', help: 'Slack 429 answers by method', labelNames: ['method'], registers: [registry] });
  const watchRestarts = new Counter({ name: 'rollout_chatops_watch_restarts_total', help: 'Rollout watch restarts after an error', labelNames: ['namespace'], registers: [registry] });
  const queueDepth = new Gauge({ name: 'rollout_chatops_delivery_queue_depth', help: 'Messages waiting to be posted to Slack', registers: [registry] });
  const deliveryLatency = new Histogram({
    name: 'rollout_chatops_delivery_latency_seconds',
    help: 'From a rollout change to the Slack post that shows it',
    labelNames: ['priority'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  });
  const repliesFolded = new Counter({ name: 'rollout_chatops_replies_folded_total', help: 'Replies left unposted because the status card shows them, by reason', labelNames: ['reason'], registers: [registry] });
  const commands = new Counter({ name: 'rollout_chatops_commands_total', help: 'Commands received, by source and verb', labelNames: ['source', 'verb'], registers: [registry] });
  const timeoutChecks = new Counter({ name: 'rollout_chatops_timeout_checks_total', help: 'Sweeps over deploys in progress for environment timeouts', registers: [registry] });
  // 1 on the replica that leads (watches, delivers, runs timers); the embedded store's one replica always leads.
  const leader = new Gauge({ name: 'rollout_chatops_leader', help: 'Whether this replica is the leader (1) or not (0)', registers: [registry] });
  const leaderEpoch = new Gauge({ name: 'rollout_chatops_leader_epoch', help: 'Epoch of the leader lease this replica last held (only grows; 0 with the embedded store)', registers: [registry] });
  leader.set(0);
  leaderEpoch.set(0);
  const webhooks = new Counter({ name: 'rollout_chatops_github_webhooks_total', help: 'GitHub webhook deliveries, by event and outcome', labelNames: ['event', 'outcome'], registers: [registry] });

  const delivery: DeliveryMetrics = {
    slackCall(method, outcome) {
      slackCalls.inc({ method, outcome });
      if (outcome === 'rate_limited') slackRateLimited.inc({ method });
    },
    queueDepth(depth) {
      queueDepth.set(depth);
    },
    deliveryLatency(ms, priority) {
      deliveryLatency.observe({ priority }, ms / 1000);
    },
    repliesFolded(count, reason) {
      repliesFolded.inc({ reason }, count);
    },
  };
  return { registry, leader, leaderEpoch, timeoutChecks, rolloutEvents, rolloutUpdates, watchRestarts, commands, webhooks, delivery };
}

export type Metrics = ReturnType<typeof createMetrics>;
