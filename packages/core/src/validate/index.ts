export * from './input-errors.js';
export * from './file.js';
