/**
 * The dashboard in a real browser (test/ui/*.e2e-spec.ts, `npm run test:ui`): Debian's Chromium driven by
 * playwright-core against the built server (dist/main.js, role all) with its own database and Redis prefix.
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/ui/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 120000,
};
