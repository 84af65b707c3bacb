package io.workstream.bus;

import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Who asked, on whose behalf, under which correlation id: built by the gateway from the verified token and carried
 * as headers on every event-bus message of the request chain.
 */
public record RequestContext(String correlationId, String messageId, String tenantId, String userId,
                             Set<String> roles) {

  public static final String VIEWER = "viewer";
  public static final String MEMBER = "member";
  public static final String ADMIN = "admin";

  public static RequestContext from(MultiMap headers) {
    String roles = headers.get(Headers.ROLES);
    return new RequestContext(
      headers.get(Headers.CORRELATION_ID),
      nullToEmpty(headers.get(Headers.MESSAGE_ID)),
      headers.get(Headers.TENANT_ID),
      headers.get(Headers.USER_ID),
      roles == null || roles.isEmpty() ? Set.of() : Arrays.stream(roles.split(",")).collect(Collectors.toSet()));
  }

  /** Options carrying this context; every hop of the chain uses them. */
  public DeliveryOptions deliveryOptions(long timeoutMs) {
    return new DeliveryOptions()
      .setSendTimeout(timeoutMs)
      .addHeader(Headers.CORRELATION_ID, correlationId)
      .addHeader(Headers.MESSAGE_ID, messageId)
      .addHeader(Headers.TENANT_ID, tenantId)
      .addHeader(Headers.USER_ID, userId)
      .addHeader(Headers.ROLES, String.join(",", roles));
  }

  /** Options for a reply: the correlation id travels back too. */
  public DeliveryOptions replyOptions() {
    return new DeliveryOptions().addHeader(Headers.CORRELATION_ID, correlationId);
  }

  public boolean canRead() {
    return roles.contains(VIEWER) || canWrite();
  }

  public boolean canWrite() {
    return roles.contains(MEMBER) || roles.contains(ADMIN);
  }

  /** Whether the request is idempotent (the client gave a message id). */
  public boolean idempotent() {
    return !messageId.isEmpty();
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }
}
