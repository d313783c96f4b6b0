import type { Feature } from './feature';

/** Every capability the portal serves, in the order their routes are mounted. */
export const features: Feature[] = [];
