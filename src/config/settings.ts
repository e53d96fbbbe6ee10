import type { LogLevel } from './env-schema.js';
import type { Config } from './config-schema.js';

/** Everything the composition root needs, validated: environment plus config file. */
export interface Settings {
  configPath: string;
  dataDir: string;
  /** With DATABASE_URL: the shared PostgreSQL store, and this replica's name as a leader. */
  database?: { url: string; holder: string };
  port: number;
  host: string;
  logLevel: LogLevel;
  slack: {
    botToken: string;
    /** Absent in Socket Mode. */
    signingSecret?: string;
    /** Set → Socket Mode instead of /slack/events. */
    appToken?: string;
    /** Web API base URL, ends with `/`. */
    apiUrl: string;
  };
  /** Absent when none of the GitHub App variables are set: GitHub features are off. */
  github?: {
    appId: string;
    privateKey: string;
    webhookSecret: string;
    /** `${GHE_PROTOCOL}://${GHE_HOST}/api/v3`, or undefined for github.com. */
    baseUrl?: string;
  };
  kubernetes: {
    /** Path of the kubeconfig; undefined → in-cluster. */
    kubeconfig?: string;
  };
  aws: {
    region: string;
    /** Custom ECR endpoint (AWS_ENDPOINT_URL_ECR). */
    ecrEndpoint?: string;
    /** Static credentials when given as variables; otherwise the SDK's default chain (IRSA, instance role, profile). */
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  };
  config: Config;
}
