/** A source that is not what it claims (truncated dump, other PostgreSQL version, foreign export format). */
export class BadSource extends Error {}

/** The machine lacks what a step needs (PostgreSQL binaries of the right version). */
export class MissingTool extends Error {}
