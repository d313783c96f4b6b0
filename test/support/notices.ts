import type { AppContext } from '../../src/app-context';
import { createNotice, type Actor } from '../../src/features/notice/service';
import { parseNoticeInput, type NoticeInput } from '../../src/features/notice/schema';

/** Fields as the admin form submits them, read by the form's own parser; a field error fails the test. */
export function noticeInput(fields: Record<string, unknown>): NoticeInput {
  const parsed = parseNoticeInput(fields);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}

/** A notice created through the service from form fields, published unless `publish: false`; returns its id. */
export function addNotice(ctx: AppContext, fields: Record<string, unknown>, opts: { publish?: boolean; actor?: Actor } = {}): Promise<number> {
  return createNotice(ctx, noticeInput(fields), opts.actor ?? { label: 'test', userId: null }, { publish: opts.publish ?? true });
}
