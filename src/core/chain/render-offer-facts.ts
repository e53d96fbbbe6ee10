import { shortDigest } from '../text/short-digest.js';
import { esc } from '../text/mrkdwn.js';

/** The facts a deploy offer shows (and a GitHub comment answers with): the ECR check, the proof, what runs, what will run. */
export function renderOfferFacts(o: {
  tag: string;
  repository: string;
  digest: string;
  proof: string;
  env: string;
  running?: Array<string | undefined>;
  workflow: string;
  repo: string;
  ref: string;
}): string[] {
  return [
    `• Tag \`${esc(o.tag)}\` verified in ECR \`${esc(o.repository)}\`: digest \`${esc(shortDigest(o.digest))}\``,
    `• Proven: ${o.proof}`,
    `• ${o.env} now runs ${o.running?.filter(Boolean).map((t) => `\`${esc(t!)}\``).join(', ') || 'nothing I know of'}`,
    `• Will dispatch workflow \`${esc(o.workflow)}\` of ${esc(o.repo)} on \`${esc(o.ref)}\` with environment=${esc(o.env)}, image_tag=${esc(o.tag)}`,
  ];
}
