package io.workstream.db;

import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.sqlclient.DatabaseException;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.WorkstreamException;

import java.util.Set;

/** How a database failure is treated: retried or not, counted by the breaker or not, and what the client sees. */
final class DbErrors {

  /** SQL states worth another attempt: the transaction was rolled back for reasons that pass. */
  private static final Set<String> TRANSIENT_STATES = Set.of(
    "40001", // serialization_failure
    "40P01", // deadlock_detected
    "55P03", // lock_not_available
    "57P01", // admin_shutdown
    "57P02", // crash_shutdown
    "57P03", // cannot_connect_now
    "53300"  // too_many_connections
  );

  private DbErrors() {
  }

  /** A commit whose outcome is unknown (connection lost while committing): never retried blindly. */
  static final class CommitOutcomeUnknown extends RuntimeException {
    CommitOutcomeUnknown(Throwable cause) {
      super("commit outcome unknown", cause, false, false);
    }
  }

  /** Worth retrying: the operation surely did not take effect and may succeed if tried again. */
  static boolean isTransient(Throwable failure) {
    if (failure instanceof DatabaseException db) {
      String state = db.getSqlState();
      return state != null && (TRANSIENT_STATES.contains(state) || state.startsWith("08"));
    }
    // Connection refused, reset or closed before an answer; waiting for a pooled connection timed out.
    return !(failure instanceof WorkstreamException)
      && !(failure instanceof CommitOutcomeUnknown)
      && !(failure instanceof ConnectionPoolTooBusyException);
  }

  /**
   * Whether the breaker counts the failure: the database path is unhealthy. A business outcome, a query the server
   * rejected (a bug, not an outage) and a full pool queue (overload, shed on purpose) are not counted.
   */
  static boolean countsAgainstBreaker(Throwable failure) {
    if (failure instanceof WorkstreamException known) {
      return known.code().isInfrastructure();
    }
    if (failure instanceof ConnectionPoolTooBusyException) {
      return false;
    }
    if (failure instanceof DatabaseException) {
      return isTransient(failure) || "57014".equals(((DatabaseException) failure).getSqlState());
    }
    return true;
  }

  /** What the client is told. */
  static WorkstreamException toClient(Throwable failure, long retryAfterMs) {
    if (failure instanceof WorkstreamException known) {
      return known;
    }
    if (failure instanceof CommitOutcomeUnknown) {
      return new WorkstreamException(ErrorCode.TIMEOUT,
        "the database connection was lost while committing; resend with the same message_id");
    }
    if (failure instanceof ConnectionPoolTooBusyException) {
      return WorkstreamException.unavailable("the database is saturated", retryAfterMs);
    }
    if (failure instanceof DatabaseException db && "57014".equals(db.getSqlState())) {
      return new WorkstreamException(ErrorCode.TIMEOUT, "the database did not answer in time");
    }
    if (isTransient(failure)) {
      return WorkstreamException.unavailable("the database is unavailable", retryAfterMs);
    }
    return new WorkstreamException(ErrorCode.DATABASE_ERROR, "the database rejected the operation");
  }
}
