/** Types of build-console.js (CommonJS, run by `node` at install time). */
export function buildConsole(): Promise<{ bytes: number; gzipped: number }>;
export const consoleDist: string;
