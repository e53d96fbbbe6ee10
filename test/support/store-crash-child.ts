/**
 * A process that works the embedded store the way the bot does, for the crash tests: each round a deploy starts and
 * finishes (so it leaves for the history), a message is queued, marked attempted, "posted" (a line in posted.log, the
 * stand-in for Slack) and recorded as delivered, an audit entry and a commit are added. It prints `ok <i>` once a
 * round's last flush resolved. On start it first settles messages left in doubt by reading posted.log back, as the
 * dispatcher reads Slack back: nothing is posted twice.
 *
 * argv: <dir> <first round> <rounds> [<failpoint> <after rounds>]: with a failpoint, the store kills this process with
 * SIGKILL when it next reaches that point once `after rounds` rounds are done.
 */
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { openEmbeddedStore } from '../../src/adapters/store/open-embedded-store.js';

const [dir, firstArg, roundsArg, point, afterArg] = process.argv.slice(2);
const first = Number(firstArg);
const rounds = Number(roundsArg);
const posted = path.join(dir!, 'posted.log');

const store = await openEmbeddedStore(dir!, { compactAtBytes: 16_000, hotForMs: 0, everyMs: 0 });
const { stores } = store;

async function postedIds(): Promise<Set<string>> {
  const text = await readFile(posted, 'utf8').catch(() => '');
  return new Set(text.split('\n').filter(Boolean));
}

// Messages in doubt: posted before the crash or not? Read back, then finish or post them.
for (const e of await stores.outbox.all()) {
  if (e.attemptedAt === undefined) await stores.outbox.markAttempted([e.id], Date.now());
  await stores.flush();
  if (!(await postedIds()).has(e.id)) await appendFile(posted, `${e.id}\n`);
  await stores.outbox.delivered({ ids: [e.id] });
  await stores.flush();
}

for (let i = first; i < first + rounds; i++) {
  if (point && i - first >= Number(afterArg)) process.env.ROLLOUT_CHATOPS_STORE_FAILPOINT = point;
  const now = Date.now();
  const key = `app/dev/u/r${i}`;
  await stores.threads.save({ key, app: 'app', env: 'dev', namespace: 'app-dev', rollout: 'r', revision: String(i), channel: 'C1', rootTs: `${i}.1`, createdAt: now, startedAt: now, attempt: 1, announced: [], cardVersion: 1, cardSent: 1, actions: [], tag: `t${i}` });
  await stores.envs.update('app/dev', { threadKey: key });
  const id = `${key}#done`;
  // A round the crash interrupted is done again; like the bot's announced keys, what already happened is not repeated.
  const done = (await postedIds()).has(id);
  if (!done) await stores.outbox.enqueue({ id, threadKey: key, channel: 'C1', kind: 'reply', priority: 'high', text: `round ${i}`, createdAt: now });
  if (!(await stores.audit.recent()).some((a) => a.action === `round-${i}`)) {
    await stores.audit.append({ at: now, who: 'U1', source: 'slack', action: `round-${i}`, app: 'app', env: 'dev', result: 'ok' });
  }
  await stores.commits.put({ sha: `${String(i).padStart(8, '0')}${'c'.repeat(32)}`, repo: 'acme/app', message: `round ${i}`, authorName: 'Ada', url: 'u', at: now, source: 'push' });
  await stores.flush();
  if (!done) {
    await stores.outbox.markAttempted([id], Date.now());
    await stores.flush();
    await appendFile(posted, `${id}\n`);
  }
  await stores.outbox.delivered({ ids: [id] });
  await stores.threads.observed(key, { set: { outcome: 'completed', finishedAt: Date.now() - 1 }, bumpCard: false });
  await stores.envs.update('app/dev', { threadKey: undefined });
  await stores.flush();
  process.stdout.write(`ok ${i}\n`);
}
await store.close();
