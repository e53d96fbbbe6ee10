import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Memory of a process as /proc/<pid>/status reports it, in MB. */
export interface ProcMemory {
  /** Resident set size now. */
  rssMb: number;
  /** Peak resident set size so far (VmHWM). */
  hwmMb: number;
}

/** Reads VmRSS and VmHWM of a live process; undefined once it is gone. */
export function readMemory(pid: number): ProcMemory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** Bytes a process has caused to be written to storage (/proc/<pid>/io write_bytes); undefined when unreadable. */
export function readWriteBytes(pid: number): number | undefined {
  try {
    const m = /^write_bytes:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Pins every thread of a process to `cpus` (taskset -a -p); false when taskset is missing or refuses. */
export function pinProcess(pid: number, cpus: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-pc', cpus, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** CPU time (user + system) a process has used, in ms, from /proc/<pid>/stat. */
export function readCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS on an interval; the peak also comes from VmHWM, which the kernel keeps exactly. */
export class RssSampler {
  readonly samples: Array<{ at: number; rssMb: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly pid: number, private readonly everyMs = 250) {}

  start(): this {
    this.timer = setInterval(() => {
      const m = readMemory(this.pid);
      if (m) this.samples.push({ at: Date.now(), rssMb: m.rssMb });
    }, this.everyMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Highest sampled RSS between two times. */
  peakBetween(from: number, to: number): number {
    return this.samples.filter((s) => s.at >= from && s.at <= to).reduce((m, s) => Math.max(m, s.rssMb), 0);
  }
}

/** A node child process we started, with its output kept (bounded) and its listening port parsed from it. */
export interface NodeChild {
  child: ChildProcess;
  pid: number;
  /** Resolves with the port once the child logs one (a JSON line with "port" and a "listening" message). */
  port: Promise<number>;
  /** Lines at warn level or above that the child logged (pino level >= 40), at most 200 kept. */
  problems: string[];
  /** Count of every warn+ line, including those not kept. */
  problemCount: () => number;
  /** The last 20 KB of output. */
  tail: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop: (graceMs?: number) => Promise<{ ms: number; killed: boolean }>;
}

/**
 * Starts `node <args>` with exactly `env` (plus PATH), piping and draining its output so it never blocks on a full pipe.
 * `cpus` (e.g. "1") pins it with taskset, which execs node in place, so the pid is node's.
 */
export function startNode(args: string[], env: Record<string, string>, cwd: string, o: { cpus?: string } = {}): NodeChild {
  const [cmd, argv] = o.cpus ? ['taskset', ['-c', o.cpus, process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let pending = '';
  let problemCount = 0;
  const problems: string[] = [];
  let resolvePort!: (p: number) => void;
  let rejectPort!: (e: Error) => void;
  const port = new Promise<number>((res, rej) => {
    resolvePort = res;
    rejectPort = rej;
  });
  const onData = (d: Buffer) => {
    const s = d.toString();
    tail = (tail + s).slice(-20_000);
    pending += s;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
      if (level >= 40) {
        problemCount++;
        if (problems.length < 200) problems.push(line.slice(0, 600));
      }
      const m = /"port":(\d+)/.exec(line);
      if (m && /listening/.test(line)) resolvePort(Number(m[1]));
    }
    if (pending.length > 100_000) pending = '';
  };
  // Nobody may be waiting on the port when the child dies later; that must not be an unhandled rejection.
  port.catch(() => undefined);
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('exit', (code, signal) => {
      rejectPort(new Error(`child exited (code ${code}, signal ${signal}) before listening:\n${tail}`));
      res({ code, signal });
    });
  });
  return {
    child,
    pid: child.pid!,
    port,
    problems,
    problemCount: () => problemCount,
    tail: () => tail,
    exited,
    /** SIGTERM, then SIGKILL after `graceMs`; resolves with how long the child took and whether it had to be killed. */
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return { ms: 0, killed: false };
      const t0 = Date.now();
      let killed = false;
      child.kill('SIGTERM');
      const timer = setTimeout(() => ((killed = true), child.kill('SIGKILL')), graceMs);
      await exited;
      clearTimeout(timer);
      return { ms: Date.now() - t0, killed };
    },
  };
}

/** Bytes of every file under `dir` (the bot's DATA_DIR: hot file, journal and history segments). */
export async function dirBytes(dir: string): Promise<number> {
  const { readdir, stat } = await import('node:fs/promises');
  const path = await import('node:path');
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? await dirBytes(p) : (await stat(p)).size;
  }
  return total;
}
