const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attributes (the portal's one escaper outside EJS). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * For HTML the portal shows but did not write (e-mail bodies in previews and the captured-mail viewer):
 * a sandboxed document with no scripts and nothing loaded from elsewhere, framable only by the portal.
 */
export const SANDBOXED_HTML_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";
