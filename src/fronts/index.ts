/**
 * Wire fronts: a chain behind the OpenAI Chat Completions and Anthropic Messages wire protocols,
 * so code written against the official clients goes through Bulwark unchanged.
 *
 * - `bulwarkFetch(llm, { front })`: a `fetch` for the clients' `fetch` option, answered in process.
 * - `handleFront(FRONTS.openai, request, llm)`: the same front as a (Request, llm) → Response function
 *   for an HTTP server.
 *
 * @packageDocumentation
 */
export { bulwarkFetch, FRONTS, type BulwarkFetchOptions, type FrontName } from './bulwarkFetch.js';
export { handleFront, type FrontInput } from './handleFront.js';
export { openaiFront } from './openaiFront.js';
export { anthropicFront } from './anthropicFront.js';
export { failureOf, FrontRequestError, type FrontFailure, type FailureKind } from './frontError.js';
export type { WireFront, FrontCall } from './wireFront.js';
