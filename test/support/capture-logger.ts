import type { Logger } from '../../src/core/logger.js';

export interface LogEntry { level: string; msg: string; fields: Record<string, unknown> }

/** A logger that keeps every line, for tests that check what an operator would read. */
export function captureLogger(entries: LogEntry[] = [], bindings: Record<string, unknown> = {}): Logger & { entries: LogEntry[] } {
  const at = (level: string) => (obj: object, msg: string) => void entries.push({ level, msg, fields: { ...bindings, ...(obj as Record<string, unknown>) } });
  return {
    entries,
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (b: object) => captureLogger(entries, { ...bindings, ...(b as Record<string, unknown>) }),
  };
}
