import path from 'node:path';
import { DEFAULT_CONFIG } from '../../emulators/world/loopback-bot.js';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import { startNode, type NodeChild } from '../lib/proc.js';
import { botNodeFlags, getStatus, pollUntil, startWorld, type World } from '../lib/world.js';

/** One app, three environments: the shape most teams start with (the integration tests' default config). */
export const INBOUND_CONFIG = DEFAULT_CONFIG;

const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';

/** The bot and its floor, both running, both warm enough to answer, against one set of emulators. */
export interface Inbound {
  world: World;
  bot: NodeChild;
  floor: NodeChild;
  botPort: number;
  floorPort: number;
  close(): Promise<void>;
}

/**
 * Starts the emulators with three rollouts (dev mid-deploy so `/rollout status` has a thread to link), then the bot
 * (`node dist/main.js`) and the floor app (`node bench/.build/bare-app.mjs`) side by side.
 */
export async function startInbound(root: string, floorFile: string, o: { profileDir?: string; serverCpus?: string } = {}): Promise<Inbound> {
  const world = await startWorld({ config: INBOUND_CONFIG, repos: ['acme/voting01'] });
  const c = world.controller;
  c.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMAGE}:1111111-1`, steps: STANDARD_CANARY_STEPS });
  c.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMAGE}:1111111-1`, steps: STANDARD_CANARY_STEPS });
  c.createBlueGreen({ namespace: 'voting01-staging', name: 'vote', image: `${IMAGE}:1111111-1`, autoPromotionEnabled: false });
  const pin = o.serverCpus ? { cpus: o.serverCpus } : {};
  const bot = startNode([...botNodeFlags(), ...(o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : []), path.join(root, 'dist/main.js')], world.botEnv, root, pin);
  // The floor gets the same profiler (its profiles in floor/ beside the bot's) and BENCH_FLOOR_FLAGS (say --trace-gc).
  const floorFlags = [...(process.env.BENCH_FLOOR_FLAGS ?? '').split(/\s+/).filter(Boolean), ...(o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(o.profileDir, 'floor')] : [])];
  const floor = startNode([...floorFlags, floorFile], world.floorEnv, root, pin);
  const [botPort, floorPort] = await Promise.all([bot.port, floor.port]);
  if (!(await pollUntil(async () => (await getStatus(`http://127.0.0.1:${botPort}/readyz`)) === 200, 20_000))) {
    throw new Error(`bot not ready after 20 s:\n${bot.tail()}`);
  }
  c.deploy('voting01-dev', 'vote', `${IMAGE}:2222222-2`);
  c.tick('voting01-dev', 'vote');
  await pollUntil(() => world.slack.callsTo('chat.postMessage').length > 0, 10_000);
  // Let the deploy's posts, card updates and commit lookup finish, so the measurements start on a quiet bot.
  let calls = -1;
  await pollUntil(() => {
    const now = world.slack.calls.length + world.github.calls.length;
    const quiet = now === calls;
    calls = now;
    return quiet;
  }, 15_000, 1500);
  return {
    world, bot, floor, botPort, floorPort,
    async close() {
      await Promise.allSettled([bot.stop(), floor.stop()]);
      await world.close();
    },
  };
}
