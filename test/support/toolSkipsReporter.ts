/**
 * Ends `npm test` with one plain line: how many tests were skipped because a stack tool is missing
 * (see {@link needTools} in ./tools.ts) and the one command that runs them. `needTools` records the
 * test file of each skip in the directory vitest.config.ts passes as `BULWARK_TOOL_SKIPS_DIR`; this
 * reporter counts the skipped tests of those files.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { TOOL_SKIPS_ENV } from './tools.js';

export default class ToolSkipsReporter implements Reporter {
  private dir: string | undefined;

  onInit(ctx: Vitest): void {
    this.dir = ctx.config.env?.[TOOL_SKIPS_ENV];
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const files = new Set<string>();
    if (this.dir) {
      for (const name of readdirSync(this.dir)) {
        for (const line of readFileSync(join(this.dir, name), 'utf8').split('\n')) if (line) files.add(line);
      }
      rmSync(this.dir, { recursive: true, force: true });
    }
    let skipped = 0;
    for (const module of testModules) {
      if (!files.has(module.moduleId)) continue;
      for (const test of module.children.allTests()) if (test.result().state === 'skipped') skipped++;
    }
    process.stdout.write(`stack tests skipped for missing tools: ${skipped} (run: bash scripts/install-tools.sh && npm test)\n`);
  }
}
