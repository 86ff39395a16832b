/** Unit tests beside the code (src/**\/*.spec.ts), e2e and integration tests in test/ against real Postgres and Redis. */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/test/ui-unit/*.spec.ts'],
  // The browser e2e suite has its own config (jest.ui.config.js, npm run test:ui).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/ui/'],
  // Type checking is `npm run lint`; tests only transpile, which keeps them fast.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  testTimeout: 60000,
  verbose: false,
};
