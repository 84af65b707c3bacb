package io.workstream.db;

import io.vertx.circuitbreaker.TimeoutException;
import io.vertx.core.VertxException;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.DatabaseException;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.WorkstreamException;

import java.io.IOException;
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

  private static final String QUERY_CANCELED = "57014";
  /** The SQLSTATE class of the mutation functions' business refusals (V3 migration). */
  private static final String REFUSAL_CLASS = "WS";

  private DbErrors() {
  }

  /** A commit whose outcome is unknown (connection lost while committing): never retried blindly. */
  static final class CommitOutcomeUnknown extends RuntimeException {
    CommitOutcomeUnknown(Throwable cause) {
      super("commit outcome unknown", cause, false, false);
    }
  }

  /**
   * What a failed mutation statement (one of the V3 migration's functions, in autocommit) means: a refusal of the
   * function (SQLSTATE class WS) is the business outcome it names; another error from the server rolled the
   * statement back; no answer from the server leaves unknown whether it committed.
   */
  static Throwable ofMutation(Throwable failure) {
    if (failure instanceof PgException refused && isRefusal(refused)) {
      String message = refused.getErrorMessage();
      return switch (refused.getSqlState()) {
        case "WS404" -> WorkstreamException.notFound(message);
        case "WS409" -> new WorkstreamException(ErrorCode.CONFLICT, message);
        case "WS423" -> new WorkstreamException(ErrorCode.DELETE_BLOCKED, message);
        case "WS422" -> WorkstreamException.validation(refused.getColumn(), message);
        default -> failure;
      };
    }
    return failure instanceof DatabaseException ? failure : new CommitOutcomeUnknown(failure);
  }

  /** A business refusal of a mutation function (SQLSTATE class WS). */
  static boolean isRefusal(PgException failure) {
    return failure.getSqlState() != null && failure.getSqlState().startsWith(REFUSAL_CLASS);
  }

  /** Worth retrying: the operation surely did not take effect and may succeed if tried again. */
  static boolean isTransient(Throwable failure) {
    if (failure instanceof DatabaseException db) {
      String state = db.getSqlState();
      return state != null && (TRANSIENT_STATES.contains(state) || state.startsWith("08"));
    }
    return isConnectionFailure(failure);
  }

  /**
   * The database could not be reached or dropped the connection: refused, reset, closed before an answer, or no
   * pooled connection became free in time. (The SQL client reports these as I/O or Vert.x exceptions; a plain
   * runtime exception from our own code is a bug, not an outage.)
   */
  private static boolean isConnectionFailure(Throwable failure) {
    return failure instanceof IOException
      || (failure instanceof VertxException && !(failure instanceof ConnectionPoolTooBusyException)
      && !(failure instanceof ReplyException));
  }

  /**
   * Whether the breaker counts the failure: the database path is unhealthy. A business outcome, a query the server
   * rejected (a bug, not an outage), a full pool queue (overload, shed on purpose) and a bug are not counted.
   */
  static boolean countsAgainstBreaker(Throwable failure) {
    if (failure instanceof WorkstreamException known) {
      return known.code().isInfrastructure();
    }
    if (failure instanceof DatabaseException db) {
      return isTransient(failure) || QUERY_CANCELED.equals(db.getSqlState());
    }
    return failure instanceof CommitOutcomeUnknown || failure instanceof TimeoutException
      || isConnectionFailure(failure);
  }

  /** What the client is told; a bug stays as it is, for the error boundary to log and answer INTERNAL_ERROR. */
  static Throwable toClient(Throwable failure, long retryAfterMs) {
    if (failure instanceof WorkstreamException) {
      return failure;
    }
    if (failure instanceof CommitOutcomeUnknown) {
      return new WorkstreamException(ErrorCode.TIMEOUT,
        "the database connection was lost while committing; resend with the same message_id");
    }
    if (failure instanceof ConnectionPoolTooBusyException) {
      return WorkstreamException.unavailable("the database is saturated", retryAfterMs);
    }
    if (failure instanceof DatabaseException db) {
      if (QUERY_CANCELED.equals(db.getSqlState())) {
        return new WorkstreamException(ErrorCode.TIMEOUT, "the database did not answer in time");
      }
      return isTransient(failure)
        ? WorkstreamException.unavailable("the database is unavailable", retryAfterMs)
        : new WorkstreamException(ErrorCode.DATABASE_ERROR, "the database rejected the operation");
    }
    if (isConnectionFailure(failure)) {
      return WorkstreamException.unavailable("the database is unavailable", retryAfterMs);
    }
    return failure;
  }
}
