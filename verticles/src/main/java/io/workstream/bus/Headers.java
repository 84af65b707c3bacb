package io.workstream.bus;

/** Event-bus header names carried by every message of a request chain. */
public final class Headers {

  /** The client's message_id, or a generated id when it sent none. Same on every hop of one request. */
  public static final String CORRELATION_ID = "correlation-id";
  /** The client's message_id (may be empty): the idempotency key of a mutation. */
  public static final String MESSAGE_ID = "message-id";
  /** From the verified token only, never from the client's payload. */
  public static final String TENANT_ID = "tenant-id";
  public static final String USER_ID = "user-id";
  /** Comma-separated roles of the token. */
  public static final String ROLES = "roles";

  private Headers() {
  }
}
