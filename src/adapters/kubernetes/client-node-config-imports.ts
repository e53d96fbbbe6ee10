/**
 * What client-node 1.4's `config.js` imports from its generated API (`./gen/index.js`), and only that: the resolve hook
 * in client-node-hooks.ts hands this module to `config.js` in its place.
 */
export { createConfiguration } from '@kubernetes/client-node/dist/gen/configuration.js';
export { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
