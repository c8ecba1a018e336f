/**
 * `--live`: the same chain shape against the real providers, from API keys in the environment.
 * Models can be changed with BULWARK_DEMO_OPENAI_MODEL, BULWARK_DEMO_ANTHROPIC_MODEL and
 * BULWARK_DEMO_REDUCED_MODEL; the defaults are the providers' small, cheap models.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { anthropicTarget, openaiTarget, type Target } from '../src/index.js';

export class MissingKeysError extends Error {
  override readonly name = 'MissingKeysError';
}

export function liveTargets(env: NodeJS.ProcessEnv): Target[] {
  const missing = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY'].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new MissingKeysError(`--live needs ${missing.join(' and ')} in the environment (the default demo needs no keys: drop --live)`);
  }
  const openai = new OpenAI({ apiKey: env['OPENAI_API_KEY'] });
  const anthropic = new Anthropic({ apiKey: env['ANTHROPIC_API_KEY'] });
  return [
    openaiTarget({ client: openai, model: env['BULWARK_DEMO_OPENAI_MODEL'] ?? 'gpt-4o-mini' }),
    anthropicTarget({ client: anthropic, model: env['BULWARK_DEMO_ANTHROPIC_MODEL'] ?? 'claude-haiku-4-5' }),
    openaiTarget({ client: openai, model: env['BULWARK_DEMO_REDUCED_MODEL'] ?? 'gpt-4.1-nano', tier: 'reduced' }),
  ];
}
