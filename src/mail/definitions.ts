/**
 * Every e-mail the portal sends, in one place: its template (views/emails/<template>.{html,text}.ejs,
 * both built on views/emails/partials/), where its subject comes from, the variables the template
 * needs, and which of them is the main link (the button in the HTML part, a line of its own in the
 * text part). Senders stay where they are (features, the queue); they name a definition here.
 *
 * Every e-mail is sent from a queue job (`sendEmail`), so a failed send is retried by the queue, with one
 * exception: the alert e-mails (`delivery: 'direct'`) go out at once from the alert check (`sendEmailNow`,
 * a few in-process retries), because the queue lives in PostgreSQL and an alert must still leave when the
 * database or its disk is what failed. Why, and what that costs: docs/backups.md "Alert e-mails".
 */
export interface EmailDefinition {
  template: string;
  /** A locale key, or `campaign` when the subject is the campaign's own (written by the admin). */
  subject: string;
  /** Whether the message carries Japanese first and English below whatever the recipient's language. */
  bilingual: boolean;
  /** 'queue': sent from a queue job (sendEmail); 'direct': sent at once with in-process retries (sendEmailNow), alerts only. */
  delivery: 'queue' | 'direct';
  variables: readonly string[];
  mainLink: string;
}

export const EMAILS = {
  campaignMessage: {
    template: 'campaign-message',
    subject: 'campaign',
    bilingual: false,
    delivery: 'queue',
    variables: ['subject', 'bodyHtml', 'bodyText', 'unsubscribeUrl'],
    mainLink: 'link',
  },
  exportLink: {
    template: 'export-link',
    subject: 'export.email_link_subject',
    bilingual: false,
    delivery: 'queue',
    variables: ['url', 'minutes', 'displayId'],
    mainLink: 'url',
  },
  exportReady: {
    template: 'export-ready',
    subject: 'export.email_ready_subject',
    bilingual: false,
    delivery: 'queue',
    variables: ['url', 'expires', 'displayId', 'size', 'sha256'],
    mainLink: 'url',
  },
  alertRaised: {
    template: 'alert-raised',
    subject: 'backups.mail.subject_raised',
    bilingual: true,
    delivery: 'direct',
    variables: ['alert', 'kind', 'vars', 'en', 'publicUrl'],
    mainLink: 'publicUrl',
  },
  alertCleared: {
    template: 'alert-cleared',
    subject: 'backups.mail.subject_cleared',
    bilingual: true,
    delivery: 'direct',
    variables: ['alert', 'kind', 'vars', 'en', 'publicUrl'],
    mainLink: 'publicUrl',
  },
  alertTest: {
    template: 'alert-test',
    subject: 'backups.test_alert.subject',
    bilingual: true,
    delivery: 'direct',
    variables: ['en', 'publicUrl', 'sentAt', 'actor'],
    mainLink: 'publicUrl',
  },
  noticeConfirm: {
    template: 'notice-confirm',
    subject: 'notice.subscribe.mail_confirm_subject',
    bilingual: false,
    delivery: 'queue',
    variables: ['confirmUrl', 'statusUrl'],
    mainLink: 'confirmUrl',
  },
  noticeUpdate: {
    template: 'notice-update',
    subject: 'notice.subscribe.mail_update_subject',
    bilingual: false,
    delivery: 'queue',
    variables: ['title', 'state', 'at', 'bodyHtml', 'bodyText', 'statusUrl', 'unsubscribeUrl'],
    mainLink: 'statusUrl',
  },
  claimsEmailConfirm: {
    template: 'claims-email-confirm',
    subject: 'claims.email.subject',
    bilingual: false,
    delivery: 'queue',
    variables: ['url', 'minutes', 'displayId'],
    mainLink: 'url',
  },
  claimsInvitation: {
    template: 'claims-invitation',
    subject: 'claims.invite.subject',
    bilingual: false,
    delivery: 'queue',
    variables: ['url', 'days', 'displayId', 'toyboxUrl'],
    mainLink: 'url',
  },
} as const satisfies Record<string, EmailDefinition>;

export type EmailName = keyof typeof EMAILS;

/** The definition whose template is `template`, if the portal sends such an e-mail. */
export function definitionFor(template: string): EmailDefinition | undefined {
  return Object.values(EMAILS).find((d) => d.template === template);
}
