import type { Request } from 'express';
import { formatTokyo } from '../../i18n/tokyo-time';
import type { Checklist, ChecklistLine } from './service';

export interface LineView extends ChecklistLine {
  title: string;
  text: string;
}

/** Fills each line's texts in the reader's language; times become Japan time, labelled. */
export function checklistView(list: Checklist, req: Request): { sections: Array<{ id: string; title: string; lines: LineView[] }>; done: number; total: number; urgent: boolean } {
  const suffix = req.t('common.japan_time_suffix');
  const line = (l: ChecklistLine): LineView => {
    const vars = Object.fromEntries(Object.entries(l.vars).map(([k, v]) => [k, v instanceof Date ? `${formatTokyo(v, req.lang)}${suffix}` : v]));
    return { ...l, title: req.t(`recovery.items.${l.id}.title`), text: req.t(`recovery.detail.${l.detail}`, vars) };
  };
  return {
    sections: list.sections.map((s) => ({ id: s.id, title: req.t(`recovery.sections.${s.id}`), lines: s.lines.map(line) })),
    done: list.done,
    total: list.total,
    urgent: list.urgent,
  };
}
