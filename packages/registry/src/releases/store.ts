// The interface lives beside the other Store interfaces (store/release-store.ts); this path stays so code
// written against it keeps compiling.
export * from '../store/release-store.js';
