/**
 * The Bulwark gateway: chains behind an OpenAI- and Anthropic-compatible HTTP server.
 *
 * @packageDocumentation
 */
export { createGateway } from './server.js';
export { resolveGatewayConfig, SERVER_DEFAULTS, type ResolvedGateway, type ResolvedClient } from './gatewayConfig.js';
export type * from './types.js';
export { GATEWAY_ROUTES } from './types.js';
