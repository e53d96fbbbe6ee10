import { access, mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import type { AuditEntry, CommitRecord, ThreadRecord } from '../../core/store-data.js';
import { segmentLine, type Head } from './history-segments.js';
import type { HotState } from './hot-journal.js';
import { HISTORY_DIR, LEGACY_ARCHIVE_FILE, LEGACY_COMMITS_FILE, notAnObject, readJsonFile } from './store-files.js';

/** The segment the first versions' archive, audit log and commits become (sorted before every monthly segment). */
export const LEGACY_SEGMENT = '0000-legacy-v1.jsonl';

interface ArchiveV1 {
  version: 1;
  auditCutoff: number;
  threads: Record<string, ThreadRecord>;
  audit: AuditEntry[];
  commits: Record<string, CommitRecord>;
}

/**
 * Converts a DATA_DIR of the first versions, once: their archive of finished deploys, the audit log and the commits
 * (archive, commits file and hot file) become one history segment, written to a temporary file and renamed into place;
 * then the hot file is rewritten without them and the old files are renamed `*.migrated` (kept as a backup). A crash
 * at any point repeats only what is left: a segment already in place is not written twice.
 */
export async function migrateV1(dir: string, hot: HotState, log: Pick<Logger, 'info'>): Promise<void> {
  const archiveFile = path.join(dir, LEGACY_ARCHIVE_FILE);
  const commitsFile = path.join(dir, LEGACY_COMMITS_FILE);
  const archive = (await readJsonFile(archiveFile, checkArchive)) as ArchiveV1 | undefined;
  const commitsOnDisk = (await readJsonFile(commitsFile, notAnObject)) as Record<string, CommitRecord> | undefined;
  const d = hot.data;
  const inHot = d.audit.length > 0 || Object.keys(d.commits).length > 0;
  if (!archive && !commitsOnDisk && !inHot) return;

  const historyDir = path.join(dir, HISTORY_DIR);
  const segment = path.join(historyDir, LEGACY_SEGMENT);
  if (!(await exists(segment))) {
    const lines: string[] = [];
    const add = (head: Head, value: unknown) => lines.push(segmentLine(head, value));
    for (const t of Object.values(archive?.threads ?? {})) {
      if (d.threads[t.key]) continue; // the hot copy wins; it leaves for the history when it settles
      add({ k: 'th', id: t.key, t: t.finishedAt ?? t.startedAt, app: t.app, env: t.env, tag: t.tag, ch: t.channel, root: t.rootTs, st: t.startedAt }, t);
    }
    const cutoff = archive?.auditCutoff ?? 0;
    for (const a of [...(archive?.audit ?? []), ...d.audit.filter((a) => a.at >= cutoff)]) add({ k: 'au', t: a.at, app: a.app, env: a.env }, a);
    const commits = { ...(archive?.commits ?? {}), ...(commitsOnDisk ?? {}), ...d.commits };
    for (const c of Object.values(commits)) add({ k: 'cm', id: c.sha, t: c.at, r: c.repo }, c);
    await mkdir(historyDir, { recursive: true });
    const tmp = `${segment}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.write(lines.join(''));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, segment);
    log.info({ threads: Object.keys(archive?.threads ?? {}).length, commits: Object.keys(commits).length, segment }, 'store: converted the first version\'s archive, audit log and commits into the history');
  }
  d.audit = [];
  d.commits = {};
  hot.compactSoon();
  await hot.flush();
  for (const f of [archiveFile, commitsFile]) if (await exists(f)) await rename(f, `${f}.migrated`);
  await rm(`${segment}.tmp`, { force: true });
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

function checkArchive(value: unknown): string | undefined {
  const bad = notAnObject(value);
  if (bad) return bad;
  const v = value as Partial<ArchiveV1>;
  if (v.version !== 1) return `has version ${JSON.stringify(v.version)}, this bot reads version 1`;
  if (typeof v.threads !== 'object' || !Array.isArray(v.audit) || typeof v.commits !== 'object' || typeof v.auditCutoff !== 'number') return 'is missing threads, audit, commits or auditCutoff';
  return undefined;
}
