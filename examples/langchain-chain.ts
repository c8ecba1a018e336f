/**
 * A LangChain.js chain (LCEL): draft a weather report from notes, then translate it into French — two model
 * calls piped together. Changed in ONE place to go through Bulwark: `ChatOpenAI` gets
 * `configuration: { fetch: bulwarkFetch(llm) }`.
 *
 *   npm run example:langchain-chain
 *
 * Scripted: the primary (OpenAI) answers the first step (the draft), then has an outage; the chain retries it
 * once and falls back to the backup (Anthropic), which answers the second step (the translation).
 */
import { StringOutputParser } from '@langchain/core/output_parsers';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { RunnableLambda } from '@langchain/core/runnables';
import { ChatOpenAI } from '@langchain/openai';
import { bulwarkFetch } from '../src/index.js';
import { fault, startExampleChain } from './faultChain.js';

const { llm, close } = await startExampleChain({
  primaryBefore: [fault.ok({ text: 'Paris: sunny, 21 °C, light wind from the west.' })],
  backup: [fault.ok({ text: 'Paris : ensoleillé, 21 °C, vent léger d’ouest.' })],
});

// --- the chain ---------------------------------------------------------------------------------------------
const model = new ChatOpenAI({ model: 'gpt-4o', apiKey: 'unused', configuration: { fetch: bulwarkFetch(llm) } }); // ← the one Bulwark line

const draft = ChatPromptTemplate.fromMessages([
  ['system', 'Write a one-line weather report from the notes.'],
  ['human', '{notes}'],
]);
const translate = ChatPromptTemplate.fromMessages([
  ['system', 'Translate the weather report into French.'],
  ['human', '{report}'],
]);

const chain = draft
  .pipe(model)
  .pipe(new StringOutputParser())
  .pipe(
    RunnableLambda.from((report: string) => {
      console.log(`chain: step 1 (draft): ${report}`);
      return { report };
    }),
  )
  .pipe(translate)
  .pipe(model)
  .pipe(new StringOutputParser());

try {
  const french = await chain.invoke({ notes: 'paris sun 21C wind W light' });
  console.log(`chain: step 2 (translation): ${french}`);
} finally {
  await close();
}
