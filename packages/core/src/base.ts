/**
 * The part of core that needs no HTTP client: errors, logging, PRNs, keys and signatures, hashing. The
 * registry imports this entry (`@peridio-actions/core/base`) so its bundle carries no client code.
 */
export * from './errors.js';
export * from './logger.js';
export * from './types.js';
export * from './parts.js';
export * from './hash.js';
export * from './version.js';
export * from './prn.js';
export * from './redact.js';
export * from './keys.js';
export * from './signing/index.js';
