// ESLint runs from tools/lint (its own package pinning TypeScript 6 for typescript-eslint); see tools/lint/config.mjs.
export { default } from './tools/lint/config.mjs';
