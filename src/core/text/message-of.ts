/** The message of whatever was thrown, for a person to read. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
