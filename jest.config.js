
/** Layers that can run alone: `npm run test:unit`, `test:integration`, `test:e2e`, `test:browser` (the console in Chromium). */
const common = {
  testEnvironment: 'node',
  // middy is ESM-only: let ts-jest turn it into CommonJS like our own sources.
  transform: { '^.+\\.(t|j)sx?$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true } }] },
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/tests/integration/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/tests/e2e/**/*.test.ts'] },
    { ...common, displayName: 'browser', testMatch: ['<rootDir>/tests/browser/**/*.test.ts'] },
  ],
};
