import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import type { ResilientLLMOptions } from '../../src/config/types.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import type { FaultServer } from '../../src/testing/index.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';

export const OPENAI_KEY = 'sk-proj-INTEGRATION-SECRET-0123456789';
export const ANTHROPIC_KEY = 'sk-ant-api03-INTEGRATION-SECRET-9876543210';

/**
 * The chain of DESIGN §2 over real HTTP: the official OpenAI client (route 'primary'), the
 * official Anthropic client (route 'backup'), and an OpenAI-compatible local endpoint (route
 * 'local', tier reduced). Users' clients keep the SDK default of 2 retries: the adapters must
 * switch them off.
 */
export function threeTargetChain(server: FaultServer, options: Partial<ResilientLLMOptions> & { order?: Array<'primary' | 'backup' | 'local'> } = {}): { llm: ResilientLLM; clock: FakeClock } {
  const clock = createFakeClock(Date.now());
  const { order = ['primary', 'backup', 'local'], ...rest } = options;
  const make = {
    primary: () => openaiTarget({ client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', 'primary') }), model: 'gpt-4o', contextWindow: 128_000 }),
    backup: () => anthropicTarget({ client: new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: server.baseURL('anthropic', 'backup') }), model: 'claude-sonnet-4-6', contextWindow: 200_000 }),
    local: () =>
      openaiTarget({ client: new OpenAI({ apiKey: 'ollama', baseURL: server.baseURL('openai', 'local') }), model: 'llama3.1', tier: 'reduced', contextWindow: 8_000 }),
  };
  const llm = createResilientLLM({ name: 'support-agent', targets: order.map((o) => make[o]()), clock, telemetry: false, ...rest });
  return { llm, clock };
}

export const ask = { messages: [{ role: 'user' as const, content: 'Summarise today' }] };
