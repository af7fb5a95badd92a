/** `npm run test:unit`: the unit tier of jest.config.js alone (pure suites, no global setup). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- jest reads CommonJS configs
const { projects, ...global } = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = { ...global, ...projects.find((project) => project.displayName === 'unit') };
