package io.workstream.bus;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The one place where failures cross the event bus: {@link #reply} fails a message with the code of a
 * {@link WorkstreamException}; {@link #from} turns whatever a request failed with back into one.
 */
public final class Failures {

  private static final Logger LOG = LoggerFactory.getLogger(Failures.class);

  private Failures() {
  }

  /**
   * Fails {@code msg} with the protocol code of {@code failure}. Anything that is not a {@link WorkstreamException}
   * is a bug: it is logged with its stack trace and the correlation id, and the requester sees INTERNAL_ERROR.
   */
  public static void reply(Message<?> msg, Throwable failure) {
    WorkstreamException known = from(failure);
    if (known.code() == ErrorCode.INTERNAL_ERROR) {
      LOG.error("request failed unexpectedly", kv("address", msg.address()), failure);
    }
    JsonObject detail = new JsonObject().put("message", known.getMessage());
    if (!known.field().isEmpty()) {
      detail.put("field", known.field());
    }
    if (known.retryAfterMs() > 0) {
      detail.put("retryAfterMs", known.retryAfterMs());
    }
    msg.fail(known.code().busCode(), detail.encode());
  }

  /** The protocol failure behind any throwable a Workstream future can fail with. */
  public static WorkstreamException from(Throwable failure) {
    if (failure instanceof WorkstreamException known) {
      return known;
    }
    if (failure instanceof ReplyException reply) {
      return switch (reply.failureType()) {
        case TIMEOUT -> new WorkstreamException(ErrorCode.TIMEOUT,
          "the request did not finish in time; resend it with the same message_id");
        case NO_HANDLERS -> WorkstreamException.unavailable("the service is starting or stopping", 1000);
        case RECIPIENT_FAILURE, ERROR -> decode(reply);
      };
    }
    return new WorkstreamException(ErrorCode.INTERNAL_ERROR, "internal error");
  }

  private static WorkstreamException decode(ReplyException reply) {
    ErrorCode code = ErrorCode.fromBusCode(reply.failureCode());
    if (code == null) {
      return new WorkstreamException(ErrorCode.INTERNAL_ERROR, "internal error");
    }
    try {
      JsonObject detail = new JsonObject(reply.getMessage());
      return new WorkstreamException(code, detail.getString("message", code.name()), detail.getString("field", ""),
        detail.getLong("retryAfterMs", 0L));
    } catch (DecodeException | NullPointerException | ClassCastException e) {
      return new WorkstreamException(code, code.name());
    }
  }
}
