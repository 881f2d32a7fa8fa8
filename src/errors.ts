// Typed errors thrown below the CLI; only src/cli.ts and the command modules turn them into exit codes.

/** What went wrong, in terms a command can map to its own exit codes. */
export type ErrorKind = 'usage' | 'connection' | 'auth' | 'permission' | 'server' | 'environment' | 'no-data' | 'interrupted';

/** Base class: a message meant for a person, one line, no secrets, and a suggested exit code. */
export class PubsubMonError extends Error {
  readonly kind: ErrorKind;
  readonly exitCode: number;

  constructor(kind: ErrorKind, message: string, exitCode?: number) {
    super(message);
    this.name = new.target.name;
    this.kind = kind;
    this.exitCode = exitCode ?? (kind === 'usage' ? 2 : 1);
  }
}

/** Bad flags, bad URL, values out of range. */
export class UsageError extends PubsubMonError {
  /** `exitCode`: 2 unless the command reports failures its own way (check: 3, UNKNOWN). */
  constructor(message: string, exitCode?: number) {
    super('usage', message, exitCode);
  }
}

/** The server cannot be reached, or the connection broke. */
export class ConnectionError extends PubsubMonError {
  constructor(message: string) {
    super('connection', message);
  }
}

/** A node that accepted the connection (or not even that) and gave no answer within the deadline. */
export class TimeoutError extends ConnectionError {}

/** NOAUTH / WRONGPASS: the credentials are missing or wrong. */
export class AuthError extends PubsubMonError {
  constructor(message: string) {
    super('auth', message);
  }
}

/** NOPERM: the ACL user lacks a command or a channel rule. */
export class PermissionError extends PubsubMonError {
  constructor(message: string) {
    super('permission', message);
  }
}

/** Any other error reply from the server that stops the command. */
export class ServerError extends PubsubMonError {
  constructor(message: string) {
    super('server', message);
  }
}

/** Something missing on this machine (redis-server not on PATH, no free port). */
export class EnvironmentError extends PubsubMonError {
  constructor(message: string) {
    super('environment', message);
  }
}

/** A measurement that found nothing to keep: a recording window in which no channel carried a message. */
export class NoDataError extends PubsubMonError {
  constructor(message: string) {
    super('no-data', message);
  }
}

/** Ctrl-C or SIGTERM before there was anything to show: the user's choice, not a mistake (exit 130, as shells do for SIGINT). */
export class InterruptedError extends PubsubMonError {
  constructor(message: string) {
    super('interrupted', message, 130);
  }
}
