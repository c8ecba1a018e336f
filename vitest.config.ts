import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// needTools (test/support/tools.ts) records here the test files whose tests it skips for a missing tool;
// the last reporter counts those tests and ends the run with one plain line (test/support/toolSkipsReporter.ts).
const toolSkipsDir = mkdtempSync(join(tmpdir(), 'bulwark-tool-skips-'));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: { BULWARK_TOOL_SKIPS_DIR: toolSkipsDir },
    reporters: ['default', './test/support/toolSkipsReporter.ts'],
  },
});
