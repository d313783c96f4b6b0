import type supertest from 'supertest';

type Agent = ReturnType<typeof supertest.agent>;

function unescape(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|#34);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#34': '"' })[e]!);
}

/** The confirmation form of a two-step action page (the one carrying confirm=1): its action and hidden fields, as a browser would post them. */
export function confirmationForm(html: string): { action: string; fields: Array<[string, string]> } {
  const forms = [...html.matchAll(/<form method="post" action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
  const form = forms.find((f) => /name="confirm" value="1"/.test(f[2]!));
  if (!form) throw new Error('no confirmation form in page');
  // in order, repeated names kept (several checkboxes of one name)
  const fields: Array<[string, string]> = [];
  for (const m of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields.push([unescape(m[1]!), unescape(m[2]!)]);
  return { action: unescape(form[1]!), fields };
}

/** Presses the confirm button of a confirmation page. */
export function confirm(agent: Agent, page: { text: string }) {
  const { action, fields } = confirmationForm(page.text);
  return agent.post(action).type('form').send(new URLSearchParams(fields).toString());
}
