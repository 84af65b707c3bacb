package io.workstream.bus;

import io.workstream.protocol.v1.Error;

/**
 * A failure that carries its protocol code. Thrown or failed anywhere in a request chain; {@link Failures} moves it
 * across the event bus unchanged. Its message goes to the client, so it never holds SQL, stack traces or data of
 * another tenant.
 */
public final class WorkstreamException extends RuntimeException {

  private final ErrorCode code;
  private final String field;
  private final long retryAfterMs;

  public WorkstreamException(ErrorCode code, String message) {
    this(code, message, "", 0);
  }

  public WorkstreamException(ErrorCode code, String message, String field, long retryAfterMs) {
    super(message, null, false, false);
    this.code = code;
    this.field = field == null ? "" : field;
    this.retryAfterMs = retryAfterMs;
  }

  public static WorkstreamException validation(String field, String message) {
    return new WorkstreamException(ErrorCode.VALIDATION_ERROR, message, field, 0);
  }

  public static WorkstreamException notFound(String message) {
    return new WorkstreamException(ErrorCode.NOT_FOUND, message);
  }

  public static WorkstreamException unavailable(String message, long retryAfterMs) {
    return new WorkstreamException(ErrorCode.SERVICE_UNAVAILABLE, message, "", retryAfterMs);
  }

  public ErrorCode code() {
    return code;
  }

  public String field() {
    return field;
  }

  public long retryAfterMs() {
    return retryAfterMs;
  }

  public Error toError() {
    return Error.newBuilder()
      .setCode(code.name())
      .setMessage(getMessage())
      .setField(field)
      .setRetryAfterMs(retryAfterMs)
      .build();
  }
}
