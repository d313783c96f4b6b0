/*
 * The portal's texts: locales/<lang>/*.json, looked up by key. Pages (through
 * src/http/language.ts), e-mails and the CLI all read them here.
 */
import fs from 'node:fs';
import path from 'node:path';

export const LANGUAGES = ['ja', 'en'] as const;
export type Lang = (typeof LANGUAGES)[number];
export const DEFAULT_LANG: Lang = 'ja';

const LOCALES_DIR = path.resolve(__dirname, '..', '..', 'locales');
type Tree = { [key: string]: string | Tree };

/**
 * locales/<lang>/<namespace>.json, flattened to "namespace.key.sub". One file
 * per feature keeps the features' texts apart; every key must exist in both
 * languages (a unit test checks).
 */
function loadLocale(lang: Lang): Map<string, string> {
  const flat = new Map<string, string>();
  const walk = (prefix: string, node: Tree) => {
    for (const [k, v] of Object.entries(node)) {
      const key = `${prefix}.${k}`;
      if (typeof v === 'string') flat.set(key, v);
      else walk(key, v);
    }
  };
  const dir = path.join(LOCALES_DIR, lang);
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    walk(path.basename(file, '.json'), JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Tree);
  }
  return flat;
}

const catalogs: Record<Lang, Map<string, string>> = { ja: loadLocale('ja'), en: loadLocale('en') };

export function catalogKeys(lang: Lang): string[] {
  return [...catalogs[lang].keys()];
}

/** Whether a string is a key of the catalogue (zod messages that are keys get translated; zod's own English never shows). */
export function isMessageKey(value: string): boolean {
  return catalogs[DEFAULT_LANG].has(value);
}

export type Translate = (key: string, vars?: Record<string, string | number>) => string;

/** Looks a key up in one language, falling back to Japanese, then to the key itself (visible, never a crash). */
export function translator(lang: Lang): Translate {
  return (key, vars) => {
    const text = catalogs[lang].get(key) ?? catalogs[DEFAULT_LANG].get(key) ?? key;
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
  };
}

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}
