import cron from 'node-cron';
import { configSchema, type Config as ConfigModel } from '../core/config/config-schema.js';

/** The config file's schema, with node-cron as the judge of cron expressions. */
export const Config = configSchema({ isCron: (c) => cron.validate(c) });
export type Config = ConfigModel;

export type { AppConfig, EnvironmentConfig } from '../core/config/config-schema.js';
