import { parseExpression } from 'cron-parser';

/** Cron schedules (BACKUP_*_CRON) are read in Japan time, as the operator writes them. */
export const SCHEDULE_TZ = 'Asia/Tokyo';

/** The next time a cron expression fires after `after`, read in Japan time. */
export function nextRun(expression: string, after: Date): Date {
  return parseExpression(expression, { tz: SCHEDULE_TZ, currentDate: after }).next().toDate();
}
