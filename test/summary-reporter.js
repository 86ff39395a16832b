// Prints one plain closing line, "N passed, N failed, N skipped", that CI systems can read in any language.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    process.stdout.write(`\nTests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped\n`);
  }
}
module.exports = SummaryReporter;
