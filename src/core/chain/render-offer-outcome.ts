import type { CardOutcome } from '../promotion/render-card-outcome.js';

/** How a confirmed deploy offer ended, for its card (the thread's reply says the details). */
export type OfferEnd =
  | { kind: 'dispatched'; by: string; at: number }
  | { kind: 'already-runs'; env: string }
  | { kind: 'dispatched-already' }
  | { kind: 'ecr-unreadable' }
  | { kind: 'ecr-changed' }
  | { kind: 'held'; summary: string }
  | { kind: 'no-github' }
  | { kind: 'dispatch-failed' };

/** The outcome a deploy offer's card shows in place of its buttons (the words for each end, in one place). */
export function offerOutcome(e: OfferEnd): CardOutcome {
  switch (e.kind) {
    case 'dispatched':
      return { kind: 'done', action: 'deploy', by: e.by, at: e.at };
    case 'already-runs':
      return { kind: 'refused', why: `${e.env} already runs this tag; nothing was dispatched` };
    case 'dispatched-already':
      return { kind: 'refused', why: 'this tag was dispatched after this request was made (see the thread); nothing more was dispatched' };
    case 'ecr-unreadable':
      return { kind: 'failed', action: 'deploy', why: 'the tag could not be verified in ECR (see the thread). Nothing was dispatched' };
    case 'ecr-changed':
      return { kind: 'refused', why: 'the tag changed in ECR since this card was shown; nothing was dispatched' };
    case 'held':
      return { kind: 'refused', why: `the environment is held, ${e.summary} (see the thread); nothing was dispatched` };
    case 'no-github':
      return { kind: 'failed', action: 'deploy', why: 'the GitHub App is not configured (see the thread). Nothing was dispatched' };
    case 'dispatch-failed':
      return { kind: 'failed', action: 'deploy', why: 'the dispatch failed (see the thread)' };
  }
}
