/** Names of the fleet: app01..appNN, env01..envMM, namespace `appNN-envMM`, rollout `vote`, one channel per app. */
export interface FleetShape {
  apps: number;
  envs: number;
}

const two = (n: number) => String(n).padStart(2, '0');

export const appName = (i: number) => `app${two(i + 1)}`;
export const envName = (j: number) => `env${two(j + 1)}`;
export const namespaceOf = (i: number, j: number) => `${appName(i)}-${envName(j)}`;
/** Slack channel ids must match /^[CGD][A-Z0-9]+$/. */
export const channelOf = (i: number) => `C0APP${two(i + 1)}`;
export const repoOf = (i: number) => `acme/${appName(i)}`;

/** The YAML config of a fleet of `apps × envs` rollouts. */
export function fleetConfig(shape: FleetShape): string {
  const lines = ['apps:'];
  for (let i = 0; i < shape.apps; i++) {
    lines.push(`  - name: ${appName(i)}`, `    repo: ${repoOf(i)}`, '    image:', `      ecrRepository: ${appName(i)}-vote`, '    environments:');
    for (let j = 0; j < shape.envs; j++) {
      lines.push(`      - name: ${envName(j)}`, `        namespace: ${namespaceOf(i, j)}`, '        rollout: vote', `        slackChannel: ${channelOf(i)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
