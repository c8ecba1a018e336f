/**
 * `bulwark/ai-sdk`: Bulwark and the Vercel AI SDK (`ai` 7.x, language model specification v4).
 *
 * - `bulwarkModel(llm)`: a chain as an AI SDK model, for `generateText`, `streamText`, tool loops.
 *
 * The AI SDK packages are optional peer dependencies: only this subpath refers to them, and
 * `import 'bulwark'` never loads them.
 *
 * @packageDocumentation
 */
export { bulwarkModel, StreamRestartedError, type BulwarkModelOptions } from './bulwarkModel.js';
