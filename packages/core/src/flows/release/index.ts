export * from './create-bundle.js';
export * from './create-release.js';
export * from './download.js';
export * from './lookup.js';
export * from './phase.js';
export * from './promote-release.js';
export * from './trusted-keys.js';
export * from './verify-update.js';
