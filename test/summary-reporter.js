// Prints one plain closing line, "N passed, N failed, N skipped", that CI systems can read in any language.
// With TEST_TOTALS_FILE set (.ci/run sets it), the counts are also appended there, so a script that runs several
// suites can close with one line for all of them.
const { appendFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests: passed, numFailedTests: failed, numPendingTests: skipped } = results;
    process.stdout.write(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    if (process.env.TEST_TOTALS_FILE) appendFileSync(process.env.TEST_TOTALS_FILE, `${passed} ${failed} ${skipped}\n`);
  }
}
module.exports = SummaryReporter;
