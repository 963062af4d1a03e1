export { createRegistry, type Registry, type RegistryOptions } from './server.js';
