/** Fault drills (test/faults): real API and worker processes under injected failures. Run alone: `npm run test:faults`. */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
  testTimeout: 180000,
};
