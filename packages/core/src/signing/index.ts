export * from './keys.js';
export * from './verify.js';
export * from './signer.js';
export * from './command-signer.js';
export * from './pkcs11.js';
export * from './x509.js';
export * from './config.js';
