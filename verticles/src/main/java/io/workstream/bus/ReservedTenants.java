package io.workstream.bus;

import java.util.UUID;

/**
 * Tenant ids a node makes for itself, which no client can use: a token naming one is refused. A warm-up's tenant
 * carries the time it started, so a warm-up whose node died before it cleaned up can be told from one still running.
 */
public final class ReservedTenants {

  public static final String PREFIX = "workstream.";
  public static final String WARMUP_PREFIX = PREFIX + "warmup.";

  private ReservedTenants() {
  }

  /** {@code workstream.warmup.<start ms>.<random uuid>}. */
  public static String warmup(long startedAtMs) {
    return WARMUP_PREFIX + startedAtMs + "." + UUID.randomUUID();
  }

  public static boolean isReserved(String tenantId) {
    return tenantId.startsWith(PREFIX);
  }

  public static boolean isWarmup(String tenantId) {
    return tenantId.startsWith(WARMUP_PREFIX);
  }
}
