/**
 * `bulwark/ai-sdk`: Bulwark and the Vercel AI SDK (`ai` 7.x, language model specification v4).
 *
 * - `bulwarkModel(llm)`: a chain as an AI SDK model, for `generateText`, `streamText`, tool loops.
 * - `aiSdkTarget({ model })`: any AI SDK provider model (Gemini, Bedrock, Mistral, …) as a chain target.
 *
 * The AI SDK packages are optional peer dependencies: only this subpath refers to them, and
 * `import 'bulwark'` never loads them.
 *
 * @packageDocumentation
 */
export { bulwarkModel, StreamRestartedError, type BulwarkModelOptions } from './bulwarkModel.js';
export { aiSdkTarget, type AiSdkTargetOptions } from '../providers/aiSdk.js';
