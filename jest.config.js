/**
 * Jest in ESM mode (NestJS 12 and aedes are ESM-only), TypeScript compiled by @swc/jest.
 * Unit specs sit beside their code (src/**\/*.spec.ts); integration and e2e suites live in test/.
 */
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2023',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts', '<rootDir>/device-sims/**/*.spec.ts'],
  testTimeout: 30000,
  maxWorkers: 2,
};
