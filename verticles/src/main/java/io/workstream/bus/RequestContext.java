package io.workstream.bus;

import io.vertx.core.MultiMap;

import java.util.Arrays;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Who asked, on whose behalf, under which correlation id: built by the gateway from the verified token, carried as
 * headers on every event-bus message of the request chain and restored on every hop ({@link RequestContexts}).
 */
public record RequestContext(String correlationId, String messageId, String tenantId, String userId,
                             Set<String> roles) {

  public static final String VIEWER = "viewer";
  public static final String MEMBER = "member";
  public static final String ADMIN = "admin";

  /** Work the service does on its own behalf for one tenant (gap filling, repairs): a fresh correlation id. */
  public static RequestContext system(String tenantId) {
    return new RequestContext(UUID.randomUUID().toString(), "", tenantId, "", Set.of());
  }

  /** The context the headers carry, or null when they carry none. */
  static RequestContext from(MultiMap headers) {
    String correlationId = headers.get(Headers.CORRELATION_ID);
    if (correlationId == null) {
      return null;
    }
    String roles = headers.get(Headers.ROLES);
    return new RequestContext(
      correlationId,
      nullToEmpty(headers.get(Headers.MESSAGE_ID)),
      nullToEmpty(headers.get(Headers.TENANT_ID)),
      nullToEmpty(headers.get(Headers.USER_ID)),
      roles == null || roles.isEmpty() ? Set.of() : Arrays.stream(roles.split(",")).collect(Collectors.toSet()));
  }

  void writeTo(MultiMap headers) {
    headers.set(Headers.CORRELATION_ID, correlationId);
    headers.set(Headers.MESSAGE_ID, messageId);
    headers.set(Headers.TENANT_ID, tenantId);
    headers.set(Headers.USER_ID, userId);
    headers.set(Headers.ROLES, String.join(",", roles));
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
