package io.workstream.gateway;

import io.vertx.core.shareddata.Shareable;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Open connections per tenant and in all, on this node: shared by every gateway instance (they run on different
 * event loops). A slot is taken before the upgrade and given back exactly once when the socket closes, however it
 * closes.
 */
final class ConnectionLimits implements Shareable {

  enum Refusal { NONE, TENANT, NODE }

  private final ConcurrentHashMap<String, Integer> perTenant = new ConcurrentHashMap<>();
  private final AtomicInteger total = new AtomicInteger();

  Refusal tryAcquire(String tenantId, GatewayConfig.Connections limits) {
    if (total.incrementAndGet() > limits.maxPerNode()) {
      total.decrementAndGet();
      return Refusal.NODE;
    }
    boolean[] admitted = {false};
    perTenant.compute(tenantId, (tenant, open) -> {
      int count = open == null ? 0 : open;
      if (count >= limits.maxPerTenant()) {
        return open;
      }
      admitted[0] = true;
      return count + 1;
    });
    if (!admitted[0]) {
      total.decrementAndGet();
      return Refusal.TENANT;
    }
    return Refusal.NONE;
  }

  void release(String tenantId) {
    perTenant.computeIfPresent(tenantId, (tenant, open) -> open <= 1 ? null : open - 1);
    total.decrementAndGet();
  }
}
