/**
 * What every example shares and a real agent would not need: a Bulwark chain pointed at the in-process fault
 * server (`bulwark/testing`) instead of the real providers, with a provider outage scripted on it, and a few
 * printed lines (from the chain's observer seam) so the failover is visible next to the agent's own output.
 *
 * In your own agent this file is the Quickstart's `createResilientLLM({ targets: [...] })` over your real
 * OpenAI / Anthropic clients; the examples change nothing else.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { anthropicTarget, createResilientLLM, openaiTarget, type EngineObserver, type ResilientLLM } from '../src/index.js';
import { fault, startFaultServer, type Fault, type FaultServer } from '../src/testing/index.js';

export interface ExampleChain {
  llm: ResilientLLM;
  server: FaultServer;
  close(): Promise<void>;
}

export interface OutageScript {
  /** What the primary (OpenAI, route 'primary') answers before its outage, one per request. */
  primaryBefore: Fault[];
  /** What the backup (Anthropic, route 'backup') answers, one per request; its last entry repeats. */
  backup: Fault[];
}

const say = (line: string) => process.stdout.write(`  [bulwark] ${line}\n`);

/** Prints each attempt's failure, each fallback hop and who answered. */
const printer: EngineObserver = {
  onRequestStart: () => ({
    onAttemptStart: (attempt) => ({
      onEnd: (end) => {
        if (end.error) say(`${attempt.target.provider}/${attempt.target.model} attempt ${attempt.number} failed: ${end.error.status ?? ''} ${end.errorType ?? end.error.errorType}`.replace('  ', ' '));
      },
    }),
    onFallback: (hop) => say(`fallback ${hop.from.provider}/${hop.from.model} → ${hop.to.provider}/${hop.to.model} (${hop.reason})`),
    onEnd: (end) => {
      const by = end.result ? `${end.result.target.provider}/${end.result.target.model}` : 'nobody';
      say(`answered by ${by} (outcome ${end.outcome}, ${end.attempts} attempt${end.attempts === 1 ? '' : 's'}, ${end.hops} fallback hop${end.hops === 1 ? '' : 's'})`);
    },
  }),
};

/**
 * Starts the fault server, scripts the outage (the primary answers `primaryBefore`, then is down with 503s for
 * good; the backup answers `backup`) and builds the chain OpenAI gpt-4o → Anthropic claude-sonnet-4-6.
 */
export async function startExampleChain(script: OutageScript): Promise<ExampleChain> {
  const server = await startFaultServer({ seed: 13 });
  const [lastBackup] = script.backup.slice(-1);
  server.script({ route: 'primary' }, { sequence: script.primaryBefore, then: fault.serverError(503) });
  server.script({ route: 'backup' }, { sequence: script.backup.slice(0, -1), then: lastBackup ?? fault.ok({ text: 'ok' }) });
  const llm = createResilientLLM({
    name: 'example-agent',
    targets: [
      openaiTarget({ client: new OpenAI({ apiKey: 'sk-example', baseURL: server.baseURL('openai', 'primary') }), model: 'gpt-4o' }),
      anthropicTarget({ client: new Anthropic({ apiKey: 'sk-ant-example', baseURL: server.baseURL('anthropic', 'backup') }), model: 'claude-sonnet-4-6' }),
    ],
    // One quick retry on the primary, so the run shows retry → fallback without waiting long.
    retry: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 50 },
    telemetry: false,
    observers: [printer],
  });
  say(`chain: openai/gpt-4o (primary) → anthropic/claude-sonnet-4-6 (backup); fault server at ${server.baseURL('openai', 'primary')}`);
  say(`scripted outage: the primary answers ${script.primaryBefore.length} request(s), then returns 503 for good`);
  return {
    llm,
    server,
    close: async () => {
      await llm.close();
      await server.close();
    },
  };
}

export { fault };
