import { z } from 'zod';
import { sha256Param } from '../../http/params';

/** /admin/salvage?q=: a free-text search over old ids, display ids, names and e-mails. */
export const reportQuery = z.object({ q: z.string().trim().max(100, 'errors.too_long').optional() });

/** /admin/salvage/thumbs/:sha256: a catalogued image by its content hash. */
export const thumbParam = z.object({ sha256: sha256Param });
