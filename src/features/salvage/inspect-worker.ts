import { hashFiles } from './inspect';

// A worker of the catalogue's pool (pool.ts): the hashing pass, fs and crypto only.
export { hashFiles };
