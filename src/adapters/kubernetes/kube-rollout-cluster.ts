import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { RolloutCluster, RolloutPatch } from '../../core/ports.js';
import { ServiceError } from '../../core/ports.js';
import { readRollout } from '../../core/rollout/read-rollout.js';
import { readAnalysisRun } from '../../core/rollout/read-analysis-run.js';
import type { AnalysisRun } from '../../core/rollout/analysis-run.js';
import type { RolloutState } from '../../core/rollout/rollout-state.js';
import { ROLLOUT_GROUP, ROLLOUT_PLURAL, ROLLOUT_VERSION } from './rollout-watcher.js';

const ANALYSIS_RUN_PLURAL = 'analysisruns';

/**
 * Reads and patches Rollouts. Patches are JSON merge patches: client-node picks JSON Patch by default, which the API
 * server rejects for an object body, so the content type is set on every call. Status goes to the status subresource.
 */
export class KubeRolloutCluster implements RolloutCluster {
  private readonly api: CustomObjectsApi;
  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async get(namespace: string, name: string): Promise<RolloutState | undefined> {
    try {
      const obj = await this.api.getNamespacedCustomObject({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, namespace, plural: ROLLOUT_PLURAL, name });
      return readRollout(obj);
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw toServiceError(err, `read rollout ${namespace}/${name}`, 'get');
    }
  }

  async analysisRun(namespace: string, name: string): Promise<AnalysisRun | undefined> {
    let obj: unknown;
    try {
      obj = await this.api.getNamespacedCustomObject({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, namespace, plural: ANALYSIS_RUN_PLURAL, name });
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
    const ref = { group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, namespace, plural: ROLLOUT_PLURAL, name, body: patch.body };
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    try {
      if (patch.target === 'status') await this.api.patchNamespacedCustomObjectStatus(ref, options);
      else await this.api.patchNamespacedCustomObject(ref, options);
    } catch (err) {
      throw toServiceError(err, `patch ${patch.target === 'status' ? 'rollouts/status' : 'rollouts'} ${namespace}/${name}`, 'patch', patch.target);
    }
  }
}

function toServiceError(err: unknown, what: string, verb: string, target?: string): ServiceError {
  const code = (err as { code?: number }).code;
  let detail = (err as Error).message;
  try {
    const body = JSON.parse((err as { body?: string }).body ?? '') as { message?: string };
    if (body.message) detail = body.message;
  } catch {
    // Not a JSON body (401 has none in client-node 1.4).
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
