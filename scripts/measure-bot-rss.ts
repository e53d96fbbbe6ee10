// Idle and peak RSS of the built bot (issue 16/12), started as operators do (test/support/bot-process.ts) against the
// loopback emulators:  node --import tsx scripts/measure-bot-rss.ts [runs] [NODE_OPTIONS variant]...
// BOT_ROOT=<dir> runs <dir>/dist/main.js from <dir> (default: this checkout), as runBot does.
// Each run: two rollouts exist, the dev one is deployed and settled once the bot is ready, then the bot idles 10 s
// (IDLE_MS). PROBE=1 also prints the bot's memoryUsage and heap spaces (scripts/memory-probe.mjs), TIMELINE=1 when
// its RSS peaked.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startKubernetesEmulator } from '../emulators/kubernetes-emulator.js';
import { startSlackEmulator } from '../emulators/slack-emulator.js';
import { ArgoController, STANDARD_CANARY_STEPS } from '../emulators/argo-controller.js';
import { DEFAULT_CONFIG, SIGNING_SECRET, waitFor } from '../test/support/harness.js';
import { spawn } from 'node:child_process';
import { processEnv, runBot, type Bot } from '../test/support/bot-process.js';

/** runBot, from another build when BOT_ROOT is set. */
function startBot(env: Record<string, string>): Bot {
  const root = process.env.BOT_ROOT;
  if (!root) return runBot(env);
  const child = spawn(process.execPath, [path.join(root, 'dist/main.js')], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let resolveUrl: (u: string) => void;
  const url = new Promise<string>((r) => (resolveUrl = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /"port":(\d+).*"msg":"rollout-chatops listening"/.exec(out);
    if (m) resolveUrl(`http://127.0.0.1:${m[1]}`);
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, url, exit, stderr: () => err, stdout: () => out };
}

const kb = (status: string, key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function once(nodeOptions: string) {
  const k8s = await startKubernetesEmulator();
  const slack = await startSlackEmulator();
  const dir = await mkdtemp(path.join(tmpdir(), 'rollout-chatops-rss-'));
  try {
    const controller = new ArgoController(k8s);
    for (const env of ['dev', 'qa']) controller.createCanary({ namespace: `voting01-${env}`, name: 'vote', image: 'r/voting01-vote:aaaaaaa-1', steps: [...STANDARD_CANARY_STEPS] });
    const env = await processEnv({ dir, config: DEFAULT_CONFIG, slack, k8s, signingSecret: SIGNING_SECRET });
    const t0 = performance.now();
    const probe = process.env.PROBE ? `--expose-gc --import ${path.join(import.meta.dirname, 'memory-probe.mjs')}` : '';
    const options = [nodeOptions, probe].filter(Boolean).join(' ');
    const bot = startBot(options ? { ...env, NODE_OPTIONS: options } : env);
    const timeline: { t: number; rss: number }[] = [];
    const poll = setInterval(() => {
      readFile(`/proc/${bot.child.pid}/status`, 'utf8').then((st) => timeline.push({ t: performance.now() - t0, rss: kb(st, 'VmRSS') }), () => {});
    }, 20);
    const url = await Promise.race([bot.url, bot.exit.then((e) => Promise.reject(new Error(`bot exited ${JSON.stringify(e)}: ${bot.stderr()}${bot.stdout().slice(-2000)}`)))]);
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 'ready');
    const readyMs = performance.now() - t0;
    const status = () => readFile(`/proc/${bot.child.pid}/status`, 'utf8');
    const atReady = await status();
    controller.deploy('voting01-dev', 'vote', 'r/voting01-vote:ea11a24-20260129125607');
    controller.settle('voting01-dev', 'vote');
    await sleep(Number(process.env.IDLE_MS ?? 10_000));
    const idle = await status();
    // utime + stime (fields 14 and 15, in clock ticks of 10 ms): the CPU the start and the deploy took.
    const stat = (await readFile(`/proc/${bot.child.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    const cpuMs = (Number(stat[11]) + Number(stat[12])) * 10;
    clearInterval(poll);
    if (process.env.TIMELINE) {
      const top = timeline.reduce((a, b) => (b.rss > a.rss ? b : a));
      const at = (ms: number) => timeline.find((x) => x.t >= ms)?.rss.toFixed(0);
      console.log(`peak ${top.rss.toFixed(0)} MB at ${top.t.toFixed(0)} ms (ready at ${readyMs.toFixed(0)} ms); rss at 250/500/750/1000/1500/2000/3000/5000/8000 ms: ${[250, 500, 750, 1000, 1500, 2000, 3000, 5000, 8000].map(at).join(' ')}`);
    }
    if (process.env.PROBE) {
      bot.child.kill('SIGUSR2');
      await sleep(1500);
      console.log(await readFile(path.join(tmpdir(), `memory-probe-${bot.child.pid}.json`), 'utf8'));
    }
    bot.child.kill('SIGTERM');
    await bot.exit;
    return { readyMs, cpuMs, readyRss: kb(atReady, 'VmRSS'), idleRss: kb(idle, 'VmRSS'), peakRss: kb(idle, 'VmHWM') };
  } finally {
    await k8s.close();
    await slack.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const runs = Number(process.argv[2] ?? 3);
const variants = process.argv.length > 3 ? process.argv.slice(3) : [''];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const v of variants) {
  const rs = [];
  for (let i = 0; i < runs; i++) rs.push(await once(v === 'none' ? '' : v));
  const m = (k: keyof (typeof rs)[number]) => median(rs.map((r) => r[k])).toFixed(1);
  const all = (k: keyof (typeof rs)[number]) => rs.map((r) => r[k].toFixed(0)).join('/');
  console.log(`${(v || 'none').padEnd(50)} ready ${m('readyMs')} ms  CPU ${m('cpuMs')} ms  VmRSS@ready ${m('readyRss')} MB  VmRSS idle ${m('idleRss')} MB (${all('idleRss')})  VmHWM ${m('peakRss')} MB (${all('peakRss')})`);
}
