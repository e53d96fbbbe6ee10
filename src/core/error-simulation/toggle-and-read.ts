import type { ErrorSimulator } from '../ports.js';
import { messageOf } from '../text/message-of.js';
import type { ToggleAnswers } from './judge-toggle.js';

/** Toggles the endpoint once and reads it back; each failure is kept as what it said, for judgeToggle. */
export async function toggleAndRead(simulator: ErrorSimulator, url: string): Promise<ToggleAnswers> {
  const out: ToggleAnswers = {};
  try {
    out.toggled = await simulator.toggle(url);
  } catch (err) {
    out.postError = messageOf(err);
  }
  try {
    out.after = await simulator.get(url);
  } catch (err) {
    out.readError = messageOf(err);
  }
  return out;
}
