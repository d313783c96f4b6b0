import exifr from 'exifr';

/** What is worth keeping from an original's embedded metadata: enough to refill a post's prompt and AI tool. */
export interface KeptMetadata {
  tool?: string;
  prompt?: string;
  negative_prompt?: string;
  seed?: string;
  model?: string;
  /** Which container the facts came from: png text chunk keyword or exif tag. */
  from?: string;
}

// Local paths (Windows drives, home directories) never leave the file: they name people's machines.
const LOCAL_PATH = /(?:[A-Za-z]:\\|\\\\|(?:^|[\s"'(=])\/(?:home|Users|mnt|media|var|tmp|opt|root|srv|data)\/)[^\s,"')]*/g;

export function scrubPaths(text: string): string {
  return text.replace(LOCAL_PATH, (m) => `${/^[\s"'(=]/.test(m) ? m[0] : ''}[path]`);
}

const clip = (s: string, n = 4000) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** AUTOMATIC1111's `parameters` text: prompt, `Negative prompt:` line, then `Steps: .., Seed: .., Model: ..`. */
export function parseA1111(text: string): KeptMetadata | null {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const settingsAt = lines.findIndex((l) => /^Steps: \d+/.test(l));
  if (settingsAt < 0) return null;
  const head = lines.slice(0, settingsAt).join('\n');
  const [prompt, negative] = head.split(/\n?Negative prompt: /);
  const settings = lines.slice(settingsAt).join(' ');
  const seed = /(?:^|, )Seed: (\d+)/.exec(settings)?.[1];
  const model = /(?:^|, )Model: ([^,]+)/.exec(settings)?.[1];
  return {
    tool: 'Stable Diffusion web UI',
    prompt: clip(scrubPaths((prompt ?? '').trim())),
    ...(negative ? { negative_prompt: clip(scrubPaths(negative.trim())) } : {}),
    ...(seed ? { seed } : {}),
    ...(model ? { model: scrubPaths(model.trim()) } : {}),
  };
}

interface ComfyNode {
  class_type?: string;
  inputs?: Record<string, unknown>;
}

/** ComfyUI's `prompt` chunk (the executed graph): text of the text-encoder nodes, the sampler's seed. */
export function parseComfyPrompt(json: string): KeptMetadata | null {
  let graph: Record<string, ComfyNode>;
  try {
    graph = JSON.parse(json) as Record<string, ComfyNode>;
  } catch {
    return null;
  }
  if (!graph || typeof graph !== 'object') return null;
  const nodes = Object.values(graph).filter((n): n is ComfyNode => !!n && typeof n === 'object');
  const texts = nodes.filter((n) => /TextEncode/i.test(n.class_type ?? '')).map((n) => n.inputs?.text).filter((t): t is string => typeof t === 'string');
  const sampler = nodes.find((n) => /Sampler/i.test(n.class_type ?? '') && (n.inputs?.seed !== undefined || n.inputs?.noise_seed !== undefined));
  const seed = sampler?.inputs?.seed ?? sampler?.inputs?.noise_seed;
  return {
    tool: 'ComfyUI',
    ...(texts[0] ? { prompt: clip(scrubPaths(texts[0])) } : {}),
    ...(texts[1] ? { negative_prompt: clip(scrubPaths(texts[1])) } : {}),
    ...(typeof seed === 'number' || typeof seed === 'string' ? { seed: String(seed) } : {}),
  };
}

/** PNG text chunks and JPEG/TIFF EXIF, both read by exifr; GPS is never even parsed. */
export async function keptMetadata(buf: Buffer): Promise<KeptMetadata | null> {
  const tags = (await exifr
    .parse(buf, { ihdr: true, tiff: true, exif: true, gps: false, xmp: false, icc: false, iptc: false, interop: false, makerNote: false, userComment: true })
    .catch(() => null)) as Record<string, unknown> | null;
  if (!tags) return null;
  const text = (v: unknown) => (typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v).toString('utf8').replace(/^(UNICODE|ASCII)\0*/, '') : null);
  const parameters = text(tags.parameters);
  const a1111 = parameters ? parseA1111(parameters) : null;
  if (a1111) return { ...a1111, from: 'png:parameters' };
  const prompt = text(tags.prompt);
  const comfy = prompt ? parseComfyPrompt(prompt) : null;
  if (comfy) return { ...comfy, from: 'png:prompt' };
  const comment = text(tags.UserComment) ?? text(tags.ImageDescription);
  const fromComment = comment ? parseA1111(comment) : null;
  if (fromComment) return { ...fromComment, from: 'exif:UserComment' };
  const software = text(tags.Software);
  if (!software && !comment) return null;
  return { ...(software ? { tool: scrubPaths(software.trim()) } : {}), ...(comment ? { prompt: clip(scrubPaths(comment.trim())) } : {}), from: 'exif' };
}
