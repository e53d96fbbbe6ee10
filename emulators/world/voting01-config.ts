/** Extra YAML lines (already indented for an environment entry, 8 spaces) per environment, and top-level keys after `apps`. */
export interface Voting01Extras {
  dev?: string[];
  qa?: string[];
  staging?: string[];
  /** Top-level YAML after the apps list (reminders, digest, ...). */
  tail?: string;
}

/**
 * The app most tests use: voting01 with dev, qa and staging, one channel each. Tests add what they need per
 * environment instead of copying the whole file.
 */
export function voting01Config(extras: Voting01Extras = {}): string {
  const env = (name: 'dev' | 'qa' | 'staging', channel: string) =>
    [`      - name: ${name}`, `        namespace: voting01-${name}`, '        rollout: vote', `        slackChannel: ${channel}`, ...(extras[name] ?? []).map((l) => `        ${l}`)].join('\n');
  return `
apps:
  - name: voting01
    repo: acme/voting01
    image:
      ecrRepository: voting01-vote
    environments:
${env('dev', 'C0DEV')}
${env('qa', 'C0QA')}
${env('staging', 'C0STAGING')}
${extras.tail ?? ''}`;
}

/** Staging's blue-green URLs and its one approver, as in the default config. */
export const STAGING_BLUE_GREEN = ['previewUrl: https://vote-voting01-staging-preview.example.com', 'activeUrl: https://vote-voting01-staging.example.com'];
