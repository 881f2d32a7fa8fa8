// The error for a server reply that does not have the shape its command documents: the server's doing, not ours.

export class MalformedReplyError extends Error {
  override readonly name = 'MalformedReplyError';
}
