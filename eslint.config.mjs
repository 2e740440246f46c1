// Architecture rules, checked by `npm test` (npm run lint): the dependencies point inwards.
//   domain     ← pure rules and values: imports nothing but the domain (and the table key names)
//   use-cases  ← declare the ports they need; import the domain, never an adapter
//   adapters   ← implement the use cases' ports; never read the environment (composition does)
//   composition (shared/composition/) alone wires adapters from the environment; handlers (functions/) use it;
//   the product never imports local/.
import tsParser from '@typescript-eslint/parser';

const restrict = (...rules) => ({ patterns: rules.map(([regex, message]) => ({ regex, message })) });
const noLocal = ['(^|/)local/', 'the product never imports the offline twin (local/): pass what it needs through a port'];
const noAdapters = ['(^|/)adapters/', 'a use case declares the port it needs and an adapter implements it: import the port, not the adapter'];
const noWiring = ['(^|/)(composition|clients)/|(^|/)config$', 'only composition modules build clients and read the environment'];
const noEnv = {
  'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read the environment in a composition module (shared/composition/ or the handler) and pass values in' }],
};

export default [
  { ignores: ['node_modules/**', '.serverless/**', '.esbuild/**', 'console/dist/**', '.cache/**', '.facewatch/**', 'coverage/**'] },
  { files: ['**/*.ts'], languageOptions: { parser: tsParser, ecmaVersion: 'latest', sourceType: 'module' } },
  { files: ['shared/**/*.ts'], rules: { 'no-restricted-imports': ['error', restrict(noLocal)] } },
  // Handlers parse the event, call a use case and map the result; their wiring is a composition module's.
  {
    files: ['functions/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', restrict(noLocal, ['(^|/)(adapters|clients)/|(^|/)config$', 'a handler gets its adapters from its composition module (shared/composition/)'])],
      ...noEnv,
    },
  },
  {
    files: ['shared/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', restrict(noLocal, noAdapters, noWiring, ['(^|/)use-cases/', 'the domain depends on nothing but itself'])],
      ...noEnv,
    },
  },
  { files: ['shared/use-cases/**/*.ts'], rules: { 'no-restricted-imports': ['error', restrict(noLocal, noAdapters, noWiring)], ...noEnv } },
  { files: ['shared/adapters/**/*.ts'], rules: { 'no-restricted-imports': ['error', restrict(noLocal, noWiring)], ...noEnv } },
];
