// The address rules are shared by every feature that mails people (campaigns, status subscriptions): see src/mail/address.ts.
export * from '../../../mail/address';
