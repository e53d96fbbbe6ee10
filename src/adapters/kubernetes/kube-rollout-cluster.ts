import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { RolloutCluster, RolloutPatch } from '../../core/ports.js';
import { ServiceError } from '../../core/ports.js';
import { readRollout } from '../../core/rollout/read-rollout.js';
import { readAnalysisRun } from '../../core/rollout/read-analysis-run.js';
import type { AnalysisRun } from '../../core/rollout/analysis-run.js';
import type { RolloutState } from '../../core/rollout/rollout-state.js';
import { kubeRequest } from './kube-request.js';
import { ROLLOUT_GROUP, ROLLOUT_PLURAL, ROLLOUT_VERSION } from './rollout-watcher.js';

const ANALYSIS_RUN_PLURAL = 'analysisruns';
const MERGE_PATCH = 'application/merge-patch+json';

/**
 * Reads and patches Rollouts, over client-node's KubeConfig (kube-request.ts). Patches are JSON merge patches (the API
 * server takes no strategic merge patch for a custom resource). Status goes to the status subresource.
 */
export class KubeRolloutCluster implements RolloutCluster {
  constructor(private readonly kubeConfig: KubeConfig) {}

  async get(namespace: string, name: string): Promise<RolloutState | undefined> {
    try {
      return readRollout(await kubeRequest(this.kubeConfig, { method: 'GET', path: objectPath(namespace, ROLLOUT_PLURAL, name) }));
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw toServiceError(err, `read rollout ${namespace}/${name}`, 'get');
    }
  }

  async analysisRun(namespace: string, name: string): Promise<AnalysisRun | undefined> {
    let obj: unknown;
    try {
      obj = await kubeRequest(this.kubeConfig, { method: 'GET', path: objectPath(namespace, ANALYSIS_RUN_PLURAL, name) });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw toServiceError(err, `read analysisrun ${namespace}/${name}`, 'get', 'analysisruns');
    }
    try {
      return readAnalysisRun(obj);
    } catch (err) {
      throw new ServiceError('kubernetes', `cannot read analysisrun ${namespace}/${name}: ${(err as Error).message}`, { code: 'unreadable', cause: err });
    }
  }

  async patch(namespace: string, name: string, patch: RolloutPatch): Promise<void> {
    const path = objectPath(namespace, ROLLOUT_PLURAL, name) + (patch.target === 'status' ? '/status' : '');
    try {
      await kubeRequest(this.kubeConfig, { method: 'PATCH', path, body: patch.body, contentType: MERGE_PATCH });
    } catch (err) {
      throw toServiceError(err, `patch ${patch.target === 'status' ? 'rollouts/status' : 'rollouts'} ${namespace}/${name}`, 'patch', patch.target);
    }
  }
}

function objectPath(namespace: string, plural: string, name: string): string {
  return `/apis/${ROLLOUT_GROUP}/${ROLLOUT_VERSION}/namespaces/${encodeURIComponent(namespace)}/${plural}/${encodeURIComponent(name)}`;
}

function toServiceError(err: unknown, what: string, verb: string, target?: string): ServiceError {
  // A status of the API server; a network error's code is a string (ECONNREFUSED), not an HTTP status.
  const status = (err as { code?: unknown }).code;
  const code = typeof status === 'number' ? status : undefined;
  let detail = (err as Error).message;
  try {
    const body = JSON.parse((err as { body?: string }).body ?? '') as { message?: string };
    if (body.message) detail = body.message;
  } catch {
    // Not a JSON body.
  }
  const resource = target === 'status' ? 'rollouts/status' : target === 'analysisruns' ? 'analysisruns' : 'rollouts';
  const fix =
    code === 403
      ? ` Fix: grant the bot's ServiceAccount "${verb}" on ${resource} (argoproj.io); see deploy/rbac.yaml.`
      : code === 401
        ? ' Fix: the cluster rejected the credentials; check KUBECONFIG or the ServiceAccount token.'
        : '';
  return new ServiceError('kubernetes', `cannot ${what}${code ? ` (HTTP ${code})` : ''}: ${detail}.${fix}`, { code: code ? `http_${code}` : 'request_error', permanent: code === 401 || code === 403, cause: err });
}
