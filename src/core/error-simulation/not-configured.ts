import type { Catalog, EnvTarget } from '../catalog.js';
import { renderErrorSim } from './render-error-sim.js';

/** "Error simulation is not configured for voting01 dev. Environments that have it: voting01 qa." */
export function notConfigured(target: EnvTarget, catalog: Catalog): string {
  const withIt = catalog.targets.filter((t) => t.env.errorSimulation).map((t) => `${t.app.name} ${t.env.name}`);
  return renderErrorSim({ kind: 'not-configured', app: target.app.name, env: target.env.name, withIt });
}
