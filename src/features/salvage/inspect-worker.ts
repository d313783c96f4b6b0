import sharp from 'sharp';
import { inspectFile } from './inspect';

// One image at a time per thread, no decoded-image cache: memory stays flat however many files pass.
sharp.cache(false);
sharp.concurrency(1);

export default inspectFile;
