/**
 * Every job name the portal uses, in one place: names are a contract with
 * jobs already waiting in the database, so never rename one in place.
 * Features add their names here.
 */
export const JOBS = {} as const;
